"""The moderators' workplace in Django's admin: queues, decisions and the read-only log.

Every decision here calls a function of resources.moderation; this package only collects
input (forms), applies and reports it (decisions), and registers the queues.
"""

from resources.admin import site  # noqa: F401  (configures admin.site before registering)
from resources.admin.batches import ImportBatchAdmin
from resources.admin.edits import EditProposalAdmin
from resources.admin.events import ModerationEventAdmin
from resources.admin.flags import FlagAdmin
from resources.admin.forms import ArchiveForm, MergeForm, RejectForm, ResourceAdminForm
from resources.admin.resources import ResourceAdmin

__all__ = [
    "ArchiveForm",
    "EditProposalAdmin",
    "FlagAdmin",
    "ImportBatchAdmin",
    "MergeForm",
    "ModerationEventAdmin",
    "RejectForm",
    "ResourceAdmin",
    "ResourceAdminForm",
]
