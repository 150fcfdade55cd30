from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User
from core.admin_guards import RefuseNulInChangelistFilters


@admin.register(User)
class SiteUserAdmin(RefuseNulInChangelistFilters, UserAdmin):
    pass
