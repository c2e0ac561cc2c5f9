"""The versioned method data files (1.0.json, ...) and the code that installs them."""

import json
from pathlib import Path

METHOD_DIR = Path(__file__).resolve().parent


def method_file_data(version: str) -> dict:
    """The parsed data file of a method version shipped with the code."""
    with open(METHOD_DIR / f"{version}.json", encoding="utf-8") as handle:
        return json.load(handle)


def method_install(data: dict, *, methodology_model, criterion_model, state: str, published_at=None):
    """Create a methodology version and its criteria from data-file form.

    The models are parameters so that migrations can pass their historical models.
    """
    parameters = {key: value for key, value in data.items() if key not in {"version", "criteria"}}
    methodology = methodology_model.objects.create(
        version=data["version"], state=state, published_at=published_at, parameters=parameters
    )
    criterion_model.objects.bulk_create(
        criterion_model(
            methodology=methodology,
            code=item["code"],
            dimension=item["dimension"],
            weight=item["weight"],
            position=position,
            references=item.get("references", ""),
            name_en=item["name"]["en"],
            name_ja=item["name"]["ja"],
            description_en=item.get("description", {}).get("en", ""),
            description_ja=item.get("description", {}).get("ja", ""),
            levels_en=item["levels"]["en"],
            levels_ja=item["levels"]["ja"],
        )
        for position, item in enumerate(data["criteria"], start=1)
    )
    return methodology
