from django.core.paginator import EmptyPage, Page, Paginator


def page_of(queryset, number: int, size: int) -> Page:
    """The page asked for; past the end, the last page (a bookmarked page 9 of a list now 3 long)."""
    paginator = Paginator(queryset, size)
    try:
        return paginator.page(number)
    except EmptyPage:
        return paginator.page(paginator.num_pages or 1)


def page_number(raw) -> int:
    """A page number from a query string: anything that is not a sensible number is page 1."""
    try:
        return max(1, min(int(raw), 100000))
    except (TypeError, ValueError):
        return 1
