// KittStore module.
