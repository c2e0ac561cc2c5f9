"""Reading public pages in tests: the parsed tree, visible text, and table rows."""

from tests.admin.pages import Element, parse


def page(response) -> Element:
    return parse(response.content)


def text(response) -> str:
    """The page's text as a reader sees it, whitespace collapsed."""
    return page(response).find("body").clean_text


def table_rows(tree: Element, table_class: str) -> list[list[str]]:
    table = tree.find("table", class_=table_class)
    return [
        [cell.clean_text for cell in row.children if isinstance(cell, Element) and cell.tag in ("th", "td")]
        for row in table.find("tbody").find_all("tr")
    ]


def ranking_names(response) -> list[str]:
    tree = page(response)
    return [
        row.find("th").find("a").clean_text
        for row in tree.find("table", class_="rankings").find("tbody").find_all("tr")
    ]
