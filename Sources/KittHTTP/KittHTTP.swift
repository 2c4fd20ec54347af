// KittHTTP module.
