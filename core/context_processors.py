from django.conf import settings

# Pages that list resource cards: anonymous readers get one "sign in to vote" hint at the
# top instead of one on every card.
CARD_PAGES = frozenset({"roadmap:section", "resources:explorer", "tag"})


def site(request) -> dict:
    match = getattr(request, "resolver_match", None)
    return {
        "site_name": settings.SITE_NAME,
        "page_cache_seconds": settings.PAGE_CACHE_SECONDS,
        "show_vote_hint": match is not None and match.view_name in CARD_PAGES,
    }
