"""The controlled vocabularies of the interchange format (docs/interchange.md), as model choices."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TargetBody(models.TextChoices):
    MOON = "moon", _("Moon")
    MARS = "mars", _("Mars")
    PHOBOS = "phobos", _("Phobos")
    DEIMOS = "deimos", _("Deimos")
    NEAR_EARTH_ASTEROID = "near_earth_asteroid", _("Near-Earth asteroid")
    MAIN_BELT_ASTEROID = "main_belt_asteroid", _("Main-belt asteroid")
    COMET = "comet", _("Comet")
    CISLUNAR_SPACE = "cislunar_space", _("Cislunar space")


class Resource(models.TextChoices):
    WATER_ICE = "water_ice", _("Water ice")
    REGOLITH = "regolith", _("Regolith")
    METALS = "metals", _("Metals")
    PLATINUM_GROUP_METALS = "platinum_group_metals", _("Platinum-group metals")
    HELIUM_3 = "helium_3", _("Helium-3")
    VOLATILES = "volatiles", _("Volatiles")
    OXYGEN = "oxygen", _("Oxygen")


class Phase(models.TextChoices):
    CONCEPT = "concept", _("Concept")
    PROSPECTING = "prospecting", _("Prospecting")
    DEMONSTRATION = "demonstration", _("Demonstration")
    PILOT = "pilot", _("Pilot")
    PRODUCTION = "production", _("Production")


class OperatorKind(models.TextChoices):
    AGENCY = "agency", _("Space agency")
    COMPANY = "company", _("Company")
    CONSORTIUM = "consortium", _("Consortium")
    UNIVERSITY = "university", _("University")


class Origin(models.TextChoices):
    """Where a project's ratings come from; anything but ASSESSED is labelled on every page."""

    ASSESSED = "assessed", _("Assessed by analysts")
    DEMO = "demo", _("Illustrative demo assessment")
    SYNTHETIC = "synthetic", _("Synthetic benchmark data")


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class EvidenceGrade(models.TextChoices):
    A = "A", _("A: independent or official verification")
    B = "B", _("B: published by the operator")
    C = "C", _("C: secondary reporting")
    D = "D", _("D: analyst judgement without a source")


class Dimension(models.TextChoices):
    SDG7 = "sdg7", _("SDG 7 Affordable and clean energy")
    SDG9 = "sdg9", _("SDG 9 Industry, innovation and infrastructure")
    SDG12 = "sdg12", _("SDG 12 Responsible consumption and production")
    DEBRIS = "debris", _("Orbital debris and surface-ejecta risk")
    EQUITY = "equity", _("Equity and non-appropriation risk")


RISK_DIMENSIONS = (Dimension.DEBRIS, Dimension.EQUITY)


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    ELEVATED = "elevated", _("Elevated")
    HIGH = "high", _("High")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


class ScoreStatus(models.TextChoices):
    RATED = "rated", _("Rated")
    INSUFFICIENT_DATA = "insufficient_data", _("Insufficient data")


class Confidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
