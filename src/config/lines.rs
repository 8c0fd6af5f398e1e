//! Where a key is written in the file, from the spans the TOML parser
//! records, so that a message can name the line to fix.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The keys of a configuration file with their places in its text.
pub(crate) struct KeyLines<'a> {
    text: &'a str,
    document: Option<Spanned<DeTable<'a>>>,
}

impl<'a> KeyLines<'a> {
    /// The keys written in `text` (none when it is not TOML).
    pub(crate) fn of(text: &'a str) -> Self {
        KeyLines {
            text,
            document: DeTable::parse(text).ok(),
        }
    }

    /// Whether `key` (`section.name`) is written in the file, rather than
    /// left to its default.
    pub(crate) fn given(&self, key: &str) -> bool {
        self.key(key).is_some()
    }

    /// The 1-based line of `key` (`section.name`), where the file has it.
    pub(crate) fn line(&self, key: &str) -> Option<usize> {
        self.key(key).map(|span| self.line_at(span.start))
    }

    /// The 1-based line of `key` (`page.command`) in the `index`-th
    /// `[[page]]` table, or of the table's header when the key is not
    /// written there.
    pub(crate) fn page_line(&self, index: usize, key: &str) -> Option<usize> {
        let name = key.strip_prefix("page.")?;
        let page = self.section("page")?.get_ref().as_array()?.get(index)?;
        let span = match page
            .get_ref()
            .as_table()
            .and_then(|table| table.get_key_value(name))
        {
            Some((written, _)) => written.span(),
            None => page.span(),
        };
        Some(self.line_at(span.start))
    }

    /// Where the name of `key` (`section.name`) is written.
    fn key(&self, key: &str) -> Option<std::ops::Range<usize>> {
        let (section, name) = key.split_once('.')?;
        let table = self.section(section)?.get_ref().as_table()?;
        table.get_key_value(name).map(|(written, _)| written.span())
    }

    fn section(&self, name: &str) -> Option<&Spanned<DeValue<'a>>> {
        self.document.as_ref()?.get_ref().get(name)
    }

    fn line_at(&self, offset: usize) -> usize {
        self.text[..offset].matches('\n').count() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::problem;

    #[test]
    fn a_key_is_named_with_its_line_however_the_file_writes_it() {
        for (text, at) in [
            (
                "# hold\n[button]\ndebounce_ms = 0\n",
                "line 3: `button.debounce_ms`",
            ),
            (
                "# hold\n[button]\n\"debounce_ms\" = 0\n",
                "line 3: `button.debounce_ms`",
            ),
            (
                "# hold\nbutton.debounce_ms = 0\n",
                "line 2: `button.debounce_ms`",
            ),
            (
                "# hold\nbutton = { debounce_ms = 0 }\n",
                "line 2: `button.debounce_ms`",
            ),
            (
                "page = [\n  { name = \"backup\" },\n]\n[display]\npages = [\"backup\"]\n",
                "line 2: `page.command` is missing",
            ),
        ] {
            let msg = problem(text);
            assert!(msg.contains(at), "{text:?}: {msg}");
        }
    }
}
