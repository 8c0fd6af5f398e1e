//! A value of the wrong type, said in TOML's words: the parser reports
//! "invalid type: string "15", expected i64", which is Rust; a person
//! editing the file needs the key, the line and the form to write instead.

use std::ops::Range;

/// The message for a TOML type error in `text`, naming the line, the key
/// and the correct form; `None` when `message` is not a type error this
/// can say better (the parser's own message is then used).
pub(super) fn in_toml_words(
    message: &str,
    span: Option<Range<usize>>,
    text: &str,
) -> Option<String> {
    let rest = message.trim().strip_prefix("invalid type: ")?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let found = Found::parse(found)?;
    let start = span?.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let source_line = text.lines().nth(line - 1).unwrap_or("").trim();
    // `[page]` where `[[page]]` is meant: the error points at the table
    if let Some(header) = source_line.strip_prefix('[') {
        let name = header.trim_start_matches('[').split(']').next()?.trim();
        return Some(match (&found, expected) {
            (Found::Table, "a sequence") => format!(
                "line {line}: `[{name}]` is a single table, where a list of tables is expected: \
                 write each one as `[[{name}]]` (double brackets)"
            ),
            (Found::List, _) => format!(
                "line {line}: `[[{name}]]` is a list of tables, where one table is expected: \
                 write it once, as `[{name}]` (single brackets)"
            ),
            _ => return None,
        });
    }
    let (left, _) = source_line.split_once('=')?;
    let name = left.trim().trim_matches('"');
    let key = match section_above(text, line) {
        Some(section) => format!("{section}.{name}"),
        None => name.to_string(),
    };
    let wanted = Wanted::from_serde(expected);
    // an item of a list (`pages = ["info", 3]`) rather than the whole value
    let is_item = text[line_start..start]
        .split_once('=')
        .is_some_and(|(_, before)| !before.trim().is_empty());
    let form = found.correct_form(wanted).map_or_else(
        || wanted.fix().to_string(),
        |value| {
            if is_item {
                format!("write it as {value}")
            } else {
                format!("write `{name} = {value}`")
            }
        },
    );
    Some(format!(
        "line {line}: `{key}` {} {}, where {} is expected: {form}",
        if is_item { "has" } else { "is" },
        found.words(),
        wanted.words()
    ))
}

/// The table the 1-based `line` is in: the last `[section]` or
/// `[[section]]` header above it.
fn section_above(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line - 1)
        .filter_map(|raw| raw.trim().strip_prefix('['))
        .last()
        .and_then(|header| header.trim_start_matches('[').split(']').next())
        .map(|name| name.trim().to_string())
}

/// What the file has, from serde's "invalid type: …" (`string "15"`,
/// `integer `15``, `map`).
enum Found {
    Text(String),
    Number(String),
    Boolean(String),
    List,
    Table,
}

impl Found {
    fn parse(found: &str) -> Option<Found> {
        let quoted = |prefix: &str| {
            found
                .strip_prefix(prefix)
                .map(|value| value.trim_matches('`').to_string())
        };
        if let Some(text) = found.strip_prefix("string ") {
            // serde quotes the string as Rust's Debug does; TOML's basic
            // strings escape the same way, so it reads back as written
            let text = text.strip_prefix('"')?.strip_suffix('"')?;
            return Some(Found::Text(
                text.replace("\\\"", "\"").replace("\\\\", "\\"),
            ));
        }
        if let Some(number) = quoted("integer ").or_else(|| quoted("floating point ")) {
            return Some(Found::Number(number));
        }
        if let Some(value) = quoted("boolean ") {
            return Some(Found::Boolean(value));
        }
        match found {
            "sequence" => Some(Found::List),
            "map" => Some(Found::Table),
            _ => None,
        }
    }

    fn words(&self) -> String {
        match self {
            Found::Text(text) => format!("the string {text:?}"),
            Found::Number(number) => format!("the number {number}"),
            Found::Boolean(value) => format!("`{value}`"),
            Found::List => "a list".into(),
            Found::Table => "a table".into(),
        }
    }

    /// The value as it should be written, where it can be told.
    fn correct_form(&self, wanted: Wanted) -> Option<String> {
        match (self, wanted) {
            (Found::Text(text), Wanted::WholeNumber) => {
                let number: i64 = text.trim().parse().ok()?;
                Some(number.to_string())
            }
            (Found::Text(text), Wanted::Number) => {
                let number: f64 = text.trim().parse().ok()?;
                Some(number.to_string())
            }
            (Found::Number(number), Wanted::WholeNumber) => {
                let number: f64 = number.parse().ok()?;
                (number.fract() == 0.0).then(|| (number as i64).to_string())
            }
            (Found::Text(text), Wanted::Boolean) => {
                matches!(text.trim(), "true" | "false").then(|| text.trim().to_string())
            }
            (Found::Number(value) | Found::Boolean(value), Wanted::Text) => {
                Some(format!("{value:?}"))
            }
            // a command line written as one string: one string per word
            (Found::Text(text), Wanted::List) => {
                let words: Vec<String> = text
                    .split_whitespace()
                    .map(|word| format!("{word:?}"))
                    .collect();
                Some(format!("[{}]", words.join(", ")))
            }
            _ => None,
        }
    }
}

/// What serde expected, in TOML's terms.
#[derive(Clone, Copy)]
enum Wanted {
    WholeNumber,
    Number,
    Boolean,
    Text,
    List,
    Table,
    Other,
}

impl Wanted {
    fn from_serde(expected: &str) -> Wanted {
        match expected {
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
                Wanted::WholeNumber
            }
            "f32" | "f64" => Wanted::Number,
            "a boolean" => Wanted::Boolean,
            "a string" | "a borrowed string" | "path string" => Wanted::Text,
            "a sequence" => Wanted::List,
            expected if expected.starts_with("struct ") || expected == "a map" => Wanted::Table,
            _ => Wanted::Other,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Wanted::WholeNumber => "a whole number",
            Wanted::Number => "a number",
            Wanted::Boolean => "true or false",
            Wanted::Text => "a string",
            Wanted::List => "a list",
            Wanted::Table => "a table",
            Wanted::Other => "another kind of value",
        }
    }

    /// What to do when the correct value cannot be told from the wrong one.
    fn fix(self) -> &'static str {
        match self {
            Wanted::WholeNumber => "write a whole number, without quotes",
            Wanted::Number => "write a number, without quotes",
            Wanted::Boolean => "write true or false, without quotes",
            Wanted::Text => "write the value in double quotes",
            Wanted::List => "write a list in brackets, one string per item: [\"a\", \"b\"]",
            Wanted::Table => "write a table: `[section]` and its keys below it",
            Wanted::Other => "see the commented defaults in /etc/rackpi-panel/config.toml",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(message: &str, text: &str, at: &str) -> Option<String> {
        let start = text.find(at).unwrap();
        in_toml_words(message, Some(start..start + at.len()), text)
    }

    #[test]
    fn a_quoted_number_is_shown_without_its_quotes() {
        let text = "[[page]]\nname = \"disk\"\ntimeout_s = \"15\"\n";
        let said = say("invalid type: string \"15\", expected i64", text, "\"15\"").unwrap();
        assert_eq!(
            said,
            "line 3: `page.timeout_s` is the string \"15\", where a whole number is expected: \
             write `timeout_s = 15`"
        );
    }

    #[test]
    fn a_command_in_one_string_is_shown_split_into_words() {
        let text = "[power]\nreboot = \"systemctl reboot\"\n";
        let said = say(
            "invalid type: string \"systemctl reboot\", expected a sequence",
            text,
            "\"systemctl",
        )
        .unwrap();
        assert!(
            said.starts_with("line 2: `power.reboot` is the string"),
            "{said}"
        );
        assert!(
            said.ends_with("write `reboot = [\"systemctl\", \"reboot\"]`"),
            "{said}"
        );
    }

    #[test]
    fn an_item_of_a_list_is_told_apart_from_the_whole_value() {
        let text = "[display]\npages = [\"info\", 3]\n";
        let said = say("invalid type: integer `3`, expected a string", text, "3]").unwrap();
        assert_eq!(
            said,
            "line 2: `display.pages` has the number 3, where a string is expected: write it as \"3\""
        );
    }

    #[test]
    fn other_messages_are_left_to_the_parser() {
        assert_eq!(
            in_toml_words("unknown field `x`", Some(0..1), "x = 1\n"),
            None
        );
    }
}
