//! The names a user gives a storage: its queue name and IndexedDB database name. Errors are
//! `InvalidOptionsError` naming the field.

use super::error::QueueError;

/// The longest queue name, in UTF-8 bytes.
pub const MAX_QUEUE_NAME_BYTES: usize = 256;

/// Checks a queue name: a non-empty string of at most [`MAX_QUEUE_NAME_BYTES`] bytes.
pub fn check_queue_name(name: &str) -> Result<(), QueueError> {
    if name.is_empty() || name.len() > MAX_QUEUE_NAME_BYTES {
        return Err(QueueError::invalid(format!(
            "queueName must be a non-empty string of at most {MAX_QUEUE_NAME_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks a database name (`dbName`): a non-empty string.
pub fn check_db_name(name: &str) -> Result<(), QueueError> {
    if name.is_empty() {
        return Err(QueueError::invalid("dbName must be a non-empty string"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_non_empty_and_at_most_256_bytes() {
        assert!(check_queue_name("q").is_ok());
        assert!(check_queue_name(&"é".repeat(128)).is_ok());
        for bad in [String::new(), "é".repeat(129), "x".repeat(257)] {
            let e = check_queue_name(&bad).unwrap_err();
            assert_eq!(e.name(), "InvalidOptionsError");
            assert!(e.message().contains("queueName"), "{}", e.message());
        }
    }

    #[test]
    fn database_names_are_non_empty() {
        assert!(check_db_name("app").is_ok());
        let e = check_db_name("").unwrap_err();
        assert_eq!(e.name(), "InvalidOptionsError");
        assert!(e.message().contains("dbName"), "{}", e.message());
    }
}
