"""Account pages: signing in and out, setting a password from a link, and API tokens."""

from django.urls import path

from attrition.accounts import views

app_name = "account"
urlpatterns = [
    path("account/", views.home, name="home"),
    path("account/login/", views.login, name="login"),
    path("account/logout/", views.logout, name="logout"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/password/changed/", views.password_changed, name="password_changed"),
    path("account/set-password/done/", views.password_set_done, name="password_set_done"),
    path("account/set-password/<uidb64>/<token>/", views.password_set, name="password_set"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke", views.token_revoke_view, name="token_revoke"),
]
