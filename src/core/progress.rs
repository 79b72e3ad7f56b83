//! Progress values: finite numbers clamped to `0..=100`.

use super::error::QueueError;

/// Clamps a finite progress value to `0..=100`; NaN and infinities are invalid.
pub fn clamp(progress: f64) -> Result<f64, QueueError> {
    if !progress.is_finite() {
        return Err(QueueError::invalid(format!(
            "progress must be a finite number from 0 to 100, got {}",
            super::js_number::js_number(progress)
        )));
    }
    Ok(progress.clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_finite_and_rejects_nan() {
        assert_eq!(clamp(150.0).unwrap(), 100.0);
        assert_eq!(clamp(-3.0).unwrap(), 0.0);
        assert_eq!(clamp(42.5).unwrap(), 42.5);
        assert_eq!(clamp(f64::NAN).unwrap_err().name(), "InvalidOptionsError");
        assert!(clamp(f64::INFINITY).is_err());
    }
}
