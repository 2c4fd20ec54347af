// KittApp module.
