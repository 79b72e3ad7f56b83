//! IndexedDB storage (being written on the `idb` branch).
