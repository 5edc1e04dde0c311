"""Where regions are: a built-in table of cloud region coordinates and great-circle distance.

Layer: pure (no I/O, no clock, no logging). The global load balancer sends a client to the
closest cluster, so it needs to know how far apart two region names are. The built-in table
holds the approximate coordinates of the city (or data-centre town) each public region is
named after or announced in, for Google Cloud, AWS and a few public OpenStack clouds. A few
hundred kilometres of error do not change which region is closest, which is all this is for.

OpenStack region names are chosen by each operator: ``RegionOne`` (the Keystone, DevStack and
Kolla default) says nothing about where it is, so it is deliberately absent. Such regions, and
any private ones, are added through configuration (:meth:`RegionTable.with_overrides`), which
may also move a built-in one.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class RegionError(ValueError):
    """A region configuration that cannot be used; the message says which entry and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Coordinates:
    """A point on the Earth in decimal degrees (north and east positive)."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not -90.0 <= self.latitude <= 90.0:
            raise RegionError(f"latitude {self.latitude} is outside -90..90")
        if not -180.0 <= self.longitude <= 180.0:
            raise RegionError(f"longitude {self.longitude} is outside -180..180")


# (latitude, longitude) of the city each region is in or named after.
_GCP: dict[str, tuple[float, float]] = {
    "asia-east1": (24.07, 120.54),  # Changhua County, Taiwan
    "asia-east2": (22.32, 114.17),  # Hong Kong
    "asia-northeast1": (35.68, 139.69),  # Tokyo
    "asia-northeast2": (34.69, 135.50),  # Osaka
    "asia-northeast3": (37.57, 126.98),  # Seoul
    "asia-south1": (19.08, 72.88),  # Mumbai
    "asia-southeast1": (1.35, 103.70),  # Jurong West, Singapore
    "asia-southeast2": (-6.21, 106.85),  # Jakarta
    "australia-southeast1": (-33.87, 151.21),  # Sydney
    "australia-southeast2": (-37.81, 144.96),  # Melbourne
    "europe-central2": (52.23, 21.01),  # Warsaw
    "europe-north1": (60.57, 27.20),  # Hamina, Finland
    "europe-west1": (50.45, 3.82),  # St. Ghislain, Belgium
    "europe-west2": (51.51, -0.13),  # London
    "europe-west3": (50.11, 8.68),  # Frankfurt
    "europe-west4": (53.44, 6.83),  # Eemshaven, Netherlands
    "europe-west6": (47.38, 8.54),  # Zurich
    "europe-west9": (48.86, 2.35),  # Paris
    "me-west1": (32.09, 34.78),  # Tel Aviv
    "northamerica-northeast1": (45.50, -73.57),  # Montreal
    "northamerica-northeast2": (43.65, -79.38),  # Toronto
    "southamerica-east1": (-23.53, -46.79),  # Osasco (Sao Paulo)
    "us-central1": (41.26, -95.86),  # Council Bluffs, Iowa
    "us-east1": (33.20, -80.01),  # Moncks Corner, South Carolina
    "us-east4": (39.04, -77.49),  # Ashburn, Virginia
    "us-east5": (39.96, -83.00),  # Columbus, Ohio
    "us-south1": (32.78, -96.80),  # Dallas
    "us-west1": (45.59, -121.18),  # The Dalles, Oregon
    "us-west2": (34.05, -118.24),  # Los Angeles
    "us-west3": (40.76, -111.89),  # Salt Lake City
    "us-west4": (36.17, -115.14),  # Las Vegas
}

_AWS: dict[str, tuple[float, float]] = {
    "af-south-1": (-33.92, 18.42),  # Cape Town
    "ap-east-1": (22.32, 114.17),  # Hong Kong
    "ap-northeast-1": (35.68, 139.69),  # Tokyo
    "ap-northeast-2": (37.57, 126.98),  # Seoul
    "ap-northeast-3": (34.69, 135.50),  # Osaka
    "ap-south-1": (19.08, 72.88),  # Mumbai
    "ap-southeast-1": (1.29, 103.85),  # Singapore
    "ap-southeast-2": (-33.87, 151.21),  # Sydney
    "ca-central-1": (45.50, -73.57),  # Montreal
    "eu-central-1": (50.11, 8.68),  # Frankfurt
    "eu-north-1": (59.33, 18.07),  # Stockholm
    "eu-south-1": (45.46, 9.19),  # Milan
    "eu-west-1": (53.35, -6.26),  # Dublin
    "eu-west-2": (51.51, -0.13),  # London
    "eu-west-3": (48.86, 2.35),  # Paris
    "me-south-1": (26.07, 50.56),  # Bahrain
    "sa-east-1": (-23.55, -46.63),  # Sao Paulo
    "us-east-1": (38.95, -77.45),  # Northern Virginia
    "us-east-2": (39.96, -83.00),  # Columbus, Ohio
    "us-west-1": (37.35, -121.96),  # Northern California (San Jose)
    "us-west-2": (45.84, -119.70),  # Oregon (Boardman)
}

# Public OpenStack clouds whose region names say where they are. OVHcloud numbers its regions
# (GRA11, SBG5, BHS5): the number is stripped when looking a name up.
_OPENSTACK: dict[str, tuple[float, float]] = {
    "gra": (50.99, 2.13),  # OVHcloud Gravelines, France
    "sbg": (48.58, 7.75),  # OVHcloud Strasbourg
    "bhs": (45.31, -73.87),  # OVHcloud Beauharnois, Canada
    "waw": (52.23, 21.01),  # OVHcloud Warsaw
    "de": (50.11, 8.68),  # OVHcloud Frankfurt area
    "uk": (51.51, -0.13),  # OVHcloud London
    "sgp": (1.29, 103.85),  # OVHcloud Singapore
    "syd": (-33.87, 151.21),  # OVHcloud Sydney
    "eu-de": (52.13, 11.63),  # Open Telekom Cloud, Magdeburg
    "eu-nl": (52.37, 4.90),  # Open Telekom Cloud, Amsterdam
    "ca-ymq-1": (45.50, -73.57),  # Vexxhost Montreal
}

BUILTIN_REGIONS: Mapping[str, Coordinates] = {
    name: Coordinates(latitude=lat, longitude=lon)
    for table in (_GCP, _AWS, _OPENSTACK)
    for name, (lat, lon) in table.items()
}
"""Every built-in region, keyed by its lower-case name."""

_GCP_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+\d+)-[a-z]$")  # asia-east1-b
_AWS_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+-\d+)[a-z]$")  # us-east-1a
_NUMBERED = re.compile(r"^(?P<region>[a-z]+)\d+$")  # GRA11, SBG5, DE1


@functools.lru_cache(maxsize=4096)  # the router asks for the same pairs on every request
def great_circle_km(a: Coordinates, b: Coordinates) -> float:
    """Distance between two points along the Earth's surface (haversine), in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class RegionTable:
    """Region names to coordinates: the built-in table plus configured additions and overrides.

    Names are compared without regard to case. A zone name (``asia-east1-b``, ``us-east-1a``) or
    a numbered OpenStack region (``GRA11``) is found through its region. Immutable.
    """

    __slots__ = ("_regions",)

    def __init__(self, regions: Mapping[str, Coordinates] | None = None) -> None:
        source = BUILTIN_REGIONS if regions is None else regions
        self._regions: dict[str, Coordinates] = {k.lower(): v for k, v in source.items()}

    def with_overrides(self, overrides: Mapping[str, Coordinates]) -> RegionTable:
        """A table with ``overrides`` added to (or replacing entries of) this one."""
        merged = dict(self._regions)
        merged.update({name.lower(): where for name, where in overrides.items()})
        return RegionTable(merged)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.coordinates(name) is not None

    def __len__(self) -> int:
        return len(self._regions)

    def coordinates(self, name: str) -> Coordinates | None:
        """Where ``name`` (a region, or a zone of one) is, or None when nobody said."""
        key = name.strip().lower()
        found = self._regions.get(key)
        if found is not None:
            return found
        for pattern in (_GCP_ZONE, _AWS_ZONE, _NUMBERED):
            match = pattern.match(key)
            if match is not None and match["region"] in self._regions:
                return self._regions[match["region"]]
        return None

    def distance_km(self, a: str, b: str) -> float | None:
        """Great-circle distance between two regions; 0 for the same name, even one the table
        does not know; None when either is unknown."""
        if a.strip().lower() == b.strip().lower():
            return 0.0
        where_a, where_b = self.coordinates(a), self.coordinates(b)
        if where_a is None or where_b is None:
            return None
        return great_circle_km(where_a, where_b)


def parse_regions(
    entries: Mapping[Any, object], *, source: str = "regions"
) -> dict[str, Coordinates]:
    """Configured regions (``{name: [latitude, longitude]}`` or ``{name: "lat,lon"}``) as values.

    Raises :class:`RegionError` naming the entry and what to write instead.
    """
    parsed: dict[str, Coordinates] = {}
    for name, value in entries.items():
        where = f"{source}.{name}"
        if not isinstance(name, str) or not name.strip():
            raise RegionError(f"{source}: region names must be non-empty strings, got {name!r}")
        if isinstance(value, str):
            parts: list[object] = [p.strip() for p in value.split(",")]
        elif isinstance(value, list | tuple):
            parts = list(value)
        else:
            parts = []
        numbers = [p for p in parts if isinstance(p, int | float | str) and not isinstance(p, bool)]
        try:
            if len(parts) != 2 or len(numbers) != 2:
                raise ValueError("expected two numbers")
            parsed[name] = Coordinates(latitude=float(numbers[0]), longitude=float(numbers[1]))
        except ValueError as exc:
            raise RegionError(
                f"{where}: {value!r} is not a coordinate pair; write [latitude, longitude] in "
                f"decimal degrees, for example [50.45, 3.82] ({exc})"
            ) from None
    return parsed
