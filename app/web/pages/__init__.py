"""The dashboard's routes, one module per area; ROUTERS is the order they are added in."""

from app.web.pages import accounts, activity, admin, audit, connect, moderation, overview, review, rules, signin

# connect before accounts: /accounts/new must not be read as /accounts/{account_id}
ROUTERS = [signin.router, overview.router, connect.router, accounts.router, rules.router, review.router,
           moderation.router, activity.router, admin.router, audit.router]
