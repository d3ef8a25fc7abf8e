//! The shell's psql display settings (`\pset`, `\x`): format, NULL text, expansion, pager.

use super::expanded::Expanded;
use super::pager::{Pager, PagerMode};
use super::print::{Layout, OutputFormat};

/// A change to (or a look at) the display settings, as `\pset`, `\x` or `\o FORMAT` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pset {
    /// `\pset` alone: every setting.
    Show,
    /// `\pset format [FORMAT]` (and `\o FORMAT`); `None` shows it.
    Format(Option<OutputFormat>),
    /// `\pset null [TEXT]`; `None` shows it.
    Null(Option<String>),
    /// `\x [on|off|auto]`, `\pset expanded …`; `None` toggles.
    Expanded(Option<Expanded>),
    /// `\pset pager [on|off|always]`; `None` toggles.
    Pager(Option<PagerMode>),
}

impl Pset {
    /// Reads the arguments of `\pset`; `None`: not a setting or value it knows.
    pub fn parse(args: Option<&str>) -> Option<Self> {
        let Some(args) = args else {
            return Some(Self::Show);
        };
        let (name, value) = match args.split_once(char::is_whitespace) {
            Some((n, v)) => (n, Some(v.trim()).filter(|v| !v.is_empty())),
            None => (args, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("format", None) => Some(Self::Format(None)),
            ("format", Some(v)) => parse_format(v).map(|f| Self::Format(Some(f))),
            ("null", v) => Some(Self::Null(v.map(unquote))),
            ("expanded" | "x", None) => Some(Self::Expanded(None)),
            ("expanded" | "x", Some(v)) => Expanded::parse(v).map(|e| Self::Expanded(Some(e))),
            ("pager", None) => Some(Self::Pager(None)),
            ("pager", Some(v)) => PagerMode::parse(v).map(|p| Self::Pager(Some(p))),
            _ => None,
        }
    }
}

/// An output format by name, any case (`csv`, `CSV`); psql's `aligned` is the table.
pub fn parse_format(name: &str) -> Option<OutputFormat> {
    use clap::ValueEnum;
    match name.to_ascii_lowercase().as_str() {
        "aligned" => Some(OutputFormat::Table),
        other => OutputFormat::from_str(other, true).ok(),
    }
}

/// An argument as psql reads it: `'(null)'` is `(null)`, `''` inside quotes is one `'`.
pub fn unquote(arg: &str) -> String {
    let arg = arg.trim();
    match arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => arg.to_string(),
    }
}

/// The shell's display settings.
#[derive(Debug)]
pub struct Settings {
    /// The result format.
    pub format: OutputFormat,
    /// The text of NULL in tables (psql's default: empty).
    pub null: String,
    /// Expanded display (default auto: expanded when a table is wider than the terminal).
    pub expanded: Expanded,
    /// The pager and its mode (default on: when a result does not fit the terminal).
    pub pager: Pager,
}

impl Settings {
    /// The shell's defaults, with the format of `-o`.
    pub fn new(format: OutputFormat) -> Self {
        Self {
            format,
            null: String::new(),
            expanded: Expanded::Auto,
            pager: Pager::default(),
        }
    }

    /// Applies `pset`; answers what to say (on stderr), in psql's words.
    pub fn apply(&mut self, pset: Pset) -> String {
        match pset {
            Pset::Show => {
                return [
                    Pset::Format(None),
                    Pset::Expanded(Some(self.expanded)),
                    Pset::Null(None),
                    Pset::Pager(Some(self.pager.mode)),
                ]
                .into_iter()
                .map(|p| self.apply(p))
                .collect::<Vec<_>>()
                .join("\n");
            }
            Pset::Format(Some(format)) => self.format = format,
            Pset::Null(Some(ref text)) => text.clone_into(&mut self.null),
            Pset::Expanded(e) => self.expanded = e.unwrap_or(self.expanded.toggled()),
            Pset::Pager(p) => self.pager.mode = p.unwrap_or(self.pager.mode.toggled()),
            Pset::Format(None) | Pset::Null(None) => {}
        }
        match pset {
            Pset::Format(_) => format!("Output format is {}.", self.format.name()),
            Pset::Null(_) => format!("Null display is \"{}\".", self.null),
            Pset::Expanded(_) => self.expanded.message().to_string(),
            Pset::Pager(_) => self.pager.mode.message().to_string(),
            Pset::Show => unreachable!("answered above"),
        }
    }

    /// How tables are laid out on a terminal `width` wide (`None`: a file or pipe).
    pub fn layout(&self, width: Option<usize>) -> Layout<'_> {
        Layout {
            null: &self.null,
            width,
            expanded: self.expanded,
            footer: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_psqls_settings() {
        assert_eq!(Pset::parse(None), Some(Pset::Show));
        assert_eq!(
            Pset::parse(Some("null '(null)'")),
            Some(Pset::Null(Some("(null)".into())))
        );
        assert_eq!(
            Pset::parse(Some("null (none)")),
            Some(Pset::Null(Some("(none)".into())))
        );
        assert_eq!(
            Pset::parse(Some("null ''")),
            Some(Pset::Null(Some(String::new())))
        );
        assert_eq!(
            Pset::parse(Some("format CSV")),
            Some(Pset::Format(Some(OutputFormat::Csv)))
        );
        assert_eq!(
            Pset::parse(Some("format aligned")),
            Some(Pset::Format(Some(OutputFormat::Table)))
        );
        assert_eq!(
            Pset::parse(Some("pager always")),
            Some(Pset::Pager(Some(PagerMode::Always)))
        );
        assert_eq!(Pset::parse(Some("pager")), Some(Pset::Pager(None)));
        assert_eq!(
            Pset::parse(Some("expanded auto")),
            Some(Pset::Expanded(Some(Expanded::Auto)))
        );
        assert_eq!(Pset::parse(Some("format xml")), None);
        assert_eq!(Pset::parse(Some("border 2")), None);
        assert_eq!(unquote("'it''s'"), "it's");
    }

    #[test]
    fn applies_with_psqls_messages() {
        let mut s = Settings::new(OutputFormat::Table);
        assert_eq!(s.expanded, Expanded::Auto);
        assert_eq!(s.null, "");
        assert_eq!(
            s.apply(Pset::Null(Some("(null)".into()))),
            "Null display is \"(null)\"."
        );
        assert_eq!(s.apply(Pset::Expanded(None)), "Expanded display is off.");
        assert_eq!(s.apply(Pset::Expanded(None)), "Expanded display is on.");
        assert_eq!(s.apply(Pset::Pager(None)), "Pager usage is off.");
        assert_eq!(
            s.apply(Pset::Format(Some(OutputFormat::Csv))),
            "Output format is csv."
        );
        let all = s.apply(Pset::Show);
        assert_eq!(
            all,
            "Output format is csv.\nExpanded display is on.\nNull display is \"(null)\".\nPager usage is off."
        );
    }
}
