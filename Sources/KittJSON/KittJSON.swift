// KittJSON module.
