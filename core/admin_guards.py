"""Admin changelists that refuse what no filter can hold."""

from django.contrib.admin.options import IncorrectLookupParameters


class RefuseNulInChangelistFilters:
    """PostgreSQL cannot compare text with a NUL character: a filter or search that holds one
    (?status__exact=%00) is treated as Django treats any bad filter, a redirect to ?e=1."""

    def get_changelist_instance(self, request):
        if any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()):
            raise IncorrectLookupParameters("A filter holds a NUL character.")
        return super().get_changelist_instance(request)
