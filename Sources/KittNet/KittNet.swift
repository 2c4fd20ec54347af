// KittNet module.
