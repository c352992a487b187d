"""The dashboard's routes, one module per area; ROUTERS is the order they are added in."""

from app.web.pages import accounts, activity, admin, audit, moderation, overview, review, rules, signin

ROUTERS = [signin.router, overview.router, accounts.router, rules.router, review.router, moderation.router,
           activity.router, admin.router, audit.router]
