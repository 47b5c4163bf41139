package observer

// RegistrySize is the number of inspectable processes recorded.
func RegistrySize() int64 { return registry.size.Load() }
