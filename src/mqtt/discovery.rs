//! Home Assistant MQTT discovery: one device per Pi, its entities as
//! retained configs under `{discovery_prefix}/COMPONENT/rackpi_ID/OBJECT/config`
//! (the per-entity form, which every Home Assistant since 2020 reads), and
//! the empty retained payloads that remove them again.

use serde_json::{json, Map, Value};

use super::topics::Topics;

/// What the discovery configs are made of (the glue maps `[mqtt]` onto it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverySettings {
    /// `[mqtt] prefix`.
    pub prefix: String,
    /// This Pi's node name ([`super::topics::node_name`]).
    pub node: String,
    /// `[mqtt] discovery_prefix`.
    pub discovery_prefix: String,
    /// `[mqtt] allow_power`: the restart and shutdown buttons.
    pub allow_power: bool,
    /// This program's version (the device's `sw_version`).
    pub version: String,
}

/// One entity of the device.
struct Entity {
    /// Home Assistant's platform: `sensor`, `binary_sensor`, `button`, `notify`.
    component: &'static str,
    /// The last level of its config topic and of its `unique_id`.
    object: &'static str,
    /// Shown after the device's name.
    name: &'static str,
    /// Only with `allow_power`.
    power: bool,
    /// The platform's own fields.
    fields: fn(&Topics) -> Value,
}

/// A sensor reading `key` of the state JSON (`None` there: unknown).
fn sensor(topics: &Topics, key: &str, unit: &str) -> Value {
    json!({
        "state_topic": topics.state(),
        "value_template": format!("{{{{ value_json.{key} }}}}"),
        "unit_of_measurement": unit,
        "state_class": "measurement",
    })
}

fn with(mut value: Value, extra: Value) -> Value {
    if let (Value::Object(fields), Value::Object(extra)) = (&mut value, extra) {
        fields.extend(extra);
    }
    value
}

const ENTITIES: [Entity; 10] = [
    Entity {
        component: "sensor",
        object: "cpu",
        name: "CPU",
        power: false,
        fields: |t| with(sensor(t, "cpu_pct", "%"), json!({"icon": "mdi:cpu-64-bit"})),
    },
    Entity {
        component: "sensor",
        object: "memory",
        name: "Memory",
        power: false,
        fields: |t| with(sensor(t, "mem_pct", "%"), json!({"icon": "mdi:memory"})),
    },
    Entity {
        component: "sensor",
        object: "temperature",
        name: "Temperature",
        power: false,
        fields: |t| {
            with(
                sensor(t, "temp_c", "°C"),
                json!({"device_class": "temperature"}),
            )
        },
    },
    Entity {
        component: "sensor",
        object: "disk",
        name: "Disk",
        power: false,
        fields: |t| with(sensor(t, "disk_pct", "%"), json!({"icon": "mdi:harddisk"})),
    },
    Entity {
        component: "sensor",
        object: "uptime",
        name: "Uptime",
        power: false,
        // it only grows, and starts again at a reboot
        fields: |t| {
            with(
                sensor(t, "uptime_s", "s"),
                json!({"device_class": "duration", "state_class": "total_increasing",
                       "entity_category": "diagnostic"}),
            )
        },
    },
    Entity {
        component: "binary_sensor",
        object: "attention",
        name: "Attention",
        power: false,
        fields: |t| {
            json!({
                "state_topic": t.state(),
                "value_template": "{{ 'ON' if value_json.attention else 'OFF' }}",
                "device_class": "problem",
                "json_attributes_topic": t.state(),
                "json_attributes_template":
                    "{{ {'attention_text': value_json.attention_text} | tojson }}",
            })
        },
    },
    Entity {
        component: "button",
        object: "identify",
        name: "Identify",
        power: false,
        fields: |t| {
            json!({"command_topic": t.command("identify"), "payload_press": "60",
                   "device_class": "identify"})
        },
    },
    // Home Assistant's entity for sending a message (`notify.send_message`):
    // the text goes as it is, a message of level `info`
    Entity {
        component: "notify",
        object: "message",
        name: "Message",
        power: false,
        fields: |t| json!({"command_topic": t.command("notify")}),
    },
    Entity {
        component: "button",
        object: "restart",
        name: "Restart",
        power: true,
        fields: |t| {
            json!({"command_topic": t.command("power"), "payload_press": "reboot",
                   "device_class": "restart"})
        },
    },
    Entity {
        component: "button",
        object: "shutdown",
        name: "Shut down",
        power: true,
        // (Home Assistant has no device class for it)
        fields: |t| {
            json!({"command_topic": t.command("power"), "payload_press": "poweroff",
                   "icon": "mdi:power"})
        },
    },
];

/// `node` as a discovery id: Home Assistant takes only ASCII letters,
/// digits, `_` and `-` in a config topic's levels; anything else becomes `_`.
pub fn discovery_id(node: &str) -> String {
    let id: String = node
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    format!("rackpi_{id}")
}

impl DiscoverySettings {
    fn topics(&self) -> Topics {
        Topics {
            prefix: self.prefix.clone(),
            node: self.node.clone(),
            discovery_prefix: self.discovery_prefix.clone(),
        }
    }

    fn config_topic(&self, entity: &Entity) -> String {
        format!(
            "{}/{}/{}/{}/config",
            self.discovery_prefix,
            entity.component,
            discovery_id(&self.node),
            entity.object
        )
    }

    fn payload(&self, entity: &Entity, topics: &Topics) -> String {
        let id = discovery_id(&self.node);
        let mut config = Map::new();
        config.insert("name".into(), entity.name.into());
        config.insert("unique_id".into(), format!("{id}_{}", entity.object).into());
        if let Value::Object(fields) = (entity.fields)(topics) {
            config.extend(fields);
        }
        let common = json!({
            "availability_topic": topics.availability(),
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": {
                "identifiers": [id],
                "name": self.node,
                "model": "RackPi",
                "sw_version": self.version,
            },
            "origin": {
                "name": "rackpi-panel",
                "sw_version": self.version,
            },
        });
        if let Value::Object(common) = common {
            config.extend(common);
        }
        Value::Object(config).to_string()
    }
}

/// The retained `(topic, payload)` configs of this Pi's device: its
/// sensors, the attention problem sensor, the identify button, the message
/// entity, and with `allow_power` the restart and shutdown buttons. Sent
/// at every connect and when Home Assistant says `online`.
pub fn configs(settings: &DiscoverySettings) -> Vec<(String, String)> {
    let topics = settings.topics();
    ENTITIES
        .iter()
        .filter(|entity| settings.allow_power || !entity.power)
        .map(|entity| {
            (
                settings.config_topic(entity),
                settings.payload(entity, &topics),
            )
        })
        .collect()
}

/// The retained `(topic, "")` that remove configs a past run may have
/// left: every one when `discovery` is off, else the power buttons when
/// `allow_power` is off. Sent at connect (harmless when there is none).
pub fn removals(settings: &DiscoverySettings, discovery: bool) -> Vec<(String, String)> {
    ENTITIES
        .iter()
        .filter(|entity| !discovery || (entity.power && !settings.allow_power))
        .map(|entity| (settings.config_topic(entity), String::new()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(allow_power: bool) -> DiscoverySettings {
        DiscoverySettings {
            prefix: "rackpi".into(),
            node: "pi3".into(),
            discovery_prefix: "homeassistant".into(),
            allow_power,
            version: "0.1.0".into(),
        }
    }

    fn topics(list: &[(String, String)]) -> Vec<&str> {
        list.iter().map(|(topic, _)| topic.as_str()).collect()
    }

    #[test]
    fn one_device_its_entities_and_the_power_buttons_only_when_allowed() {
        let without = configs(&settings(false));
        assert_eq!(
            topics(&without),
            [
                "homeassistant/sensor/rackpi_pi3/cpu/config",
                "homeassistant/sensor/rackpi_pi3/memory/config",
                "homeassistant/sensor/rackpi_pi3/temperature/config",
                "homeassistant/sensor/rackpi_pi3/disk/config",
                "homeassistant/sensor/rackpi_pi3/uptime/config",
                "homeassistant/binary_sensor/rackpi_pi3/attention/config",
                "homeassistant/button/rackpi_pi3/identify/config",
                "homeassistant/notify/rackpi_pi3/message/config",
            ]
        );
        let with = configs(&settings(true));
        assert_eq!(
            topics(&with)[8..],
            [
                "homeassistant/button/rackpi_pi3/restart/config",
                "homeassistant/button/rackpi_pi3/shutdown/config",
            ]
        );
        for (_, payload) in &with {
            let config: Value = serde_json::from_str(payload).unwrap();
            assert_eq!(config["device"]["identifiers"], json!(["rackpi_pi3"]));
            assert_eq!(config["availability_topic"], "rackpi/pi3/availability");
        }
    }

    #[test]
    fn the_restart_button_sends_reboot_to_the_power_command() {
        let with = configs(&settings(true));
        let restart: Value = serde_json::from_str(&with[8].1).unwrap();
        assert_eq!(restart["command_topic"], "rackpi/pi3/cmd/power");
        assert_eq!(restart["payload_press"], "reboot");
        assert_eq!(restart["device_class"], "restart");
        assert_eq!(restart["unique_id"], "rackpi_pi3_restart");
    }

    #[test]
    fn turning_discovery_or_power_off_empties_what_was_published() {
        assert!(removals(&settings(true), true).is_empty());
        let power_off = removals(&settings(false), true);
        assert_eq!(topics(&power_off), topics(&configs(&settings(true))[8..]));
        let off = removals(&settings(true), false);
        assert_eq!(topics(&off), topics(&configs(&settings(true))));
        assert!(off.iter().all(|(_, payload)| payload.is_empty()));
    }

    #[test]
    fn a_node_name_becomes_an_id_home_assistant_takes() {
        assert_eq!(discovery_id("pi-3_b"), "rackpi_pi-3_b");
        assert_eq!(discovery_id("Top Shelf.é"), "rackpi_Top_Shelf__");
    }
}
