//! Checks of free text that every aggregate shares: present where required, not too long.

use crate::error::{ErrorKind, RuleViolation};

/// A text field breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field}: must not be empty")]
    Required { field: &'static str },
    #[error("{field}: must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: must hold at most {max} items")]
    TooMany { field: &'static str, max: usize },
    #[error("{field}: item {index} must not be empty")]
    EmptyItem { field: &'static str, index: usize },
    #[error("{field}: {value:?} appears twice")]
    Duplicate { field: &'static str, value: String },
}

impl RuleViolation for TextError {
    fn rule(&self) -> &'static str {
        match self {
            Self::Required { .. } | Self::EmptyItem { .. } => "text.required",
            Self::TooLong { .. } => "text.max_length",
            Self::TooMany { .. } => "text.max_items",
            Self::Duplicate { .. } => "text.unique_items",
        }
    }

    fn kind(&self) -> ErrorKind {
        let field = match self {
            Self::Required { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::EmptyItem { field, .. }
            | Self::Duplicate { field, .. } => field,
        };
        ErrorKind::InvalidInput { field }
    }
}

/// A required text, trimmed, of at most `max` characters.
pub fn required(field: &'static str, text: &str, max: usize) -> Result<String, TextError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TextError::Required { field });
    }
    optional(field, trimmed, max)
}

/// An optional text (may be empty), trimmed, of at most `max` characters.
pub fn optional(field: &'static str, text: &str, max: usize) -> Result<String, TextError> {
    let trimmed = text.trim();
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    Ok(trimmed.to_owned())
}

/// A list of non-empty, distinct texts, each trimmed and at most `max_len` characters.
pub fn list(
    field: &'static str,
    items: &[String],
    max_items: usize,
    max_len: usize,
) -> Result<Vec<String>, TextError> {
    if items.len() > max_items {
        return Err(TextError::TooMany {
            field,
            max: max_items,
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(TextError::EmptyItem { field, index });
        }
        if item.chars().count() > max_len {
            return Err(TextError::TooLong {
                field,
                max: max_len,
            });
        }
        if out.iter().any(|o| o == item) {
            return Err(TextError::Duplicate {
                field,
                value: item.to_owned(),
            });
        }
        out.push(item.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_bounded() {
        assert_eq!(
            required("name", "  Dordt West ", 20),
            Ok("Dordt West".into())
        );
        assert_eq!(
            required("name", "   ", 20),
            Err(TextError::Required { field: "name" })
        );
        assert_eq!(
            required("name", "abcdef", 5),
            Err(TextError::TooLong {
                field: "name",
                max: 5
            })
        );
    }

    #[test]
    fn lists_refuse_empty_and_repeated_items() {
        let items = vec!["a".to_owned(), " ".to_owned()];
        assert_eq!(
            list("opgaven", &items, 10, 10),
            Err(TextError::EmptyItem {
                field: "opgaven",
                index: 1
            })
        );
        let items = vec!["a".to_owned(), "a ".to_owned()];
        assert!(matches!(
            list("opgaven", &items, 10, 10),
            Err(TextError::Duplicate { .. })
        ));
    }
}
