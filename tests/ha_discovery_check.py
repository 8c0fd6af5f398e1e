#!/usr/bin/env python3
"""Checks rackpi-panel's Home Assistant discovery payloads with Home
Assistant's own code: each config as HA's MQTT discovery takes it (topic
matcher, abbreviations, origin) and then the platform's DISCOVERY_SCHEMA;
no key dropped, no warning logged, a sensor's unit and state class fit its
device class, every template renders on the sample states to what the
platform expects, one device, unique ids unique; removals are empty
payloads on valid config topics.

Input: a JSON file {"discovery_prefix", "configs": [[topic, payload]...],
"removals": [[topic, payload]...], "states": [state_json...]}.
Exit status 0 when all is well, 1 with one line per problem.
Run with the venv of tests/setup (homeassistant pinned there)."""

import asyncio
import importlib
import json
import logging
import sys
import tempfile

from homeassistant.components.mqtt import discovery
from homeassistant.components.mqtt.const import SUPPORTED_COMPONENTS
from homeassistant.components.sensor import (
    DEVICE_CLASS_STATE_CLASSES,
    DEVICE_CLASS_UNITS,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import template
import voluptuous as vol


class Warnings(logging.Handler):
    """Every warning Home Assistant logs while it checks."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen = []

    def emit(self, record):
        self.seen.append(record.getMessage())


def component_of(prefix, topic):
    if not topic.startswith(prefix + "/"):
        raise ValueError(f"not under the discovery prefix {prefix!r}")
    match = discovery.TOPIC_MATCHER.fullmatch(topic[len(prefix) + 1 :])
    if not match:
        raise ValueError("Home Assistant's discovery topic matcher refuses it")
    component = match.group("component")
    if component not in SUPPORTED_COMPONENTS:
        raise ValueError(f"{component!r} is not an MQTT platform")
    return component


def check_sensor(config):
    device_class = config.get("device_class")
    if device_class is None:
        return
    unit = config.get("unit_of_measurement")
    units = DEVICE_CLASS_UNITS.get(device_class)
    if units is not None and unit not in units:
        raise ValueError(f"unit {unit!r} does not fit device class {device_class}")
    state_class = config.get("state_class")
    classes = DEVICE_CLASS_STATE_CLASSES.get(device_class)
    if state_class is not None and classes is not None and state_class not in classes:
        raise ValueError(f"state class {state_class} does not fit device class {device_class}")


def expect_number(rendered):
    if rendered != "None":  # the MQTT sensor's `unknown`
        float(rendered)


def expect_on_off(rendered):
    if rendered not in ("ON", "OFF"):
        raise ValueError("neither ON nor OFF")


def expect_object(rendered):
    if not isinstance(json.loads(rendered), dict):
        raise ValueError("not a JSON object")


def check_templates(hass, component, payload, states):
    expected = {
        ("sensor", "value_template"): expect_number,
        ("binary_sensor", "value_template"): expect_on_off,
        (component, "json_attributes_template"): expect_object,
    }
    for key, source in payload.items():
        if not key.endswith("template"):
            continue
        check = expected.get((component, key))
        if check is None:
            raise ValueError(f"{key} is not a template this check knows how to render")
        for state in states:
            rendered = template.Template(source, hass).async_render_with_possible_json_value(state)
            try:
                check(rendered)
            except ValueError as err:
                raise ValueError(f"{key} renders {rendered!r} on {state}: {err}") from None


def check_config(hass, prefix, topic, text, states):
    component = component_of(prefix, topic)
    payload = discovery.MQTTDiscoveryPayload(json.loads(text))
    discovery._replace_all_abbreviations(payload)
    if not discovery._valid_origin_info(payload):
        raise ValueError("the origin is refused")
    schema = importlib.import_module(f"homeassistant.components.mqtt.{component}").DISCOVERY_SCHEMA
    config = schema(dict(payload))
    dropped = sorted(set(payload) - set(config))
    if dropped:
        raise ValueError(f"{component} has no option {dropped} (Home Assistant drops it)")
    if component == "sensor":
        check_sensor(config)
    check_templates(hass, component, payload, states)
    return config


async def check(given):
    hass = HomeAssistant(tempfile.mkdtemp())
    prefix = given["discovery_prefix"]
    problems, unique_ids, devices = [], set(), set()
    for topic, text in given["configs"]:
        try:
            config = check_config(hass, prefix, topic, text, given["states"])
        except (ValueError, vol.Invalid) as err:
            problems.append(f"{topic}: {err}")
            continue
        if config["unique_id"] in unique_ids:
            problems.append(f"{topic}: unique_id {config['unique_id']} is used twice")
        unique_ids.add(config["unique_id"])
        devices.add(tuple(config["device"]["identifiers"]))
    if len(devices) > 1:
        problems.append(f"the configs make {len(devices)} devices: {sorted(devices)}")
    for topic, text in given["removals"]:
        try:
            component_of(prefix, topic)
            if text:
                raise ValueError("a removal must be an empty payload")
        except ValueError as err:
            problems.append(f"{topic}: {err}")
    await hass.async_stop(force=True)
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        given = json.load(file)
    warnings = Warnings()
    logging.getLogger().addHandler(warnings)
    problems = asyncio.run(check(given))
    problems += [f"Home Assistant warned: {w}" for w in warnings.seen]
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        return 1
    print(f"{len(given['configs'])} configs and {len(given['removals'])} removals "
          "as Home Assistant's MQTT discovery takes them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
