package manager

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Item types. A typed proxy (Queue[T], List[T], Array[T], Value[T],
// Dict[K, V]) names its type parameters, and the server records the names
// with the object: when a client makes it, or else at the first Lookup by
// a typed proxy. A Lookup with other types is refused, naming both, before
// anything can be taken out of the object and fail to decode; so is a
// proxy received from another process as another type. A name is the
// type's Go name (reflect's String: "int", "main.Task"), so programs built
// from the same types agree; an interface type (any) is a wildcard that
// matches every type, and records nothing.

// typeName names T for a typed proxy, or returns "" for an interface type.
func typeName[T any]() string {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Interface {
		return ""
	}
	return t.String()
}

// typeLabel names T for a message.
func typeLabel[T any]() string { return reflect.TypeFor[T]().String() }

// undoTake puts back, through undo, what a call took out of an object and
// could not decode as a T (derr says why), and returns the error for the
// caller: ErrWrongType, and whether the value is back. undo runs even if
// ctx has ended: the server answers it at once.
func undoTake[T any](ctx context.Context, what string, derr error, undo func(context.Context) error) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	if err := undo(bctx); err != nil {
		return fmt.Errorf("%w: %s is not a %s, and putting it back failed (%w), so it is lost: %w", ErrWrongType, what, typeLabel[T](), err, derr)
	}
	return fmt.Errorf("%w: %s is not a %s; it was put back: %w", ErrWrongType, what, typeLabel[T](), derr)
}

// typed is implemented by the proxies with type parameters.
type typed interface {
	itemTypes() []string
}

// itemTypesOf returns the item types p names, if any.
func itemTypesOf(p any) []string {
	if t, ok := p.(typed); ok {
		return t.itemTypes()
	}
	return nil
}

// typesMatch reports whether objects recorded with have can be used as
// want: wildcards and unrecorded types match anything.
func typesMatch(have, want []string) bool {
	if len(have) == 0 || len(want) == 0 {
		return true
	}
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		if have[i] != "" && want[i] != "" && have[i] != want[i] {
			return false
		}
	}
	return true
}

// mergeTypes returns have with its wildcards filled from want; the two
// match.
func mergeTypes(have, want []string) []string {
	if len(have) == 0 {
		return slices.Clone(want)
	}
	out := slices.Clone(have)
	for i := range out {
		if out[i] == "" && i < len(want) {
			out[i] = want[i]
		}
	}
	return out
}

// describeTypes formats item types for an error.
func describeTypes(ts []string) string {
	if len(ts) == 0 {
		return "items of any type"
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		if out[i] = t; t == "" {
			out[i] = "any"
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// wrongTypes is the error for an object of kind k holding have, asked for
// as want.
func wrongTypes(what string, k Kind, have, want []string) error {
	return fmt.Errorf("%w: %s is a %s of %s, not of %s", ErrWrongType, what, k, describeTypes(have), describeTypes(want))
}
