package manager

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// pyRepr formats a value as Python prints it: strings in single quotes.
func pyRepr(v any) string {
	if s, ok := v.(string); ok {
		return "'" + s + "'"
	}
	return fmt.Sprint(v)
}

// pyDict formats a Go map as Python prints a dict, keys in order.
func pyDict[K cmp.Ordered, V any](m map[K]V) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = pyRepr(k) + ": " + pyRepr(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// pyList formats a slice as Python prints a list.
func pyList[T any](s []T) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = pyRepr(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
