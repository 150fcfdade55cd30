"""The admin site as moderators meet it."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin

# Django's own admin login has no rate limit; allauth's login page has. Anonymous visitors
# are sent there, and signed-in users who are not staff get a 403 instead of a login form.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "MLOps Roadmap moderation"
admin.site.site_title = "MLOps Roadmap admin"
admin.site.index_title = "Moderation"
admin.site.enable_nav_sidebar = False  # the queues need the width more than a menu
