// KittAPI module.
