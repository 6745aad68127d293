package wire

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/mpgo/mp/internal/errs"
)

// The codec's limits bound each array and map, not a message as a whole:
// a message of a few KiB can decode into megabytes (an array of one-byte
// zeros into a slice of large structs, an array of empty maps into maps).
// Before decoding, Unmarshal walks the message beside the type it decodes
// into and adds up what the decoding will allocate — slices, maps and their
// overhead, strings, pointers, values boxed in interfaces — and refuses a
// message whose sum passes its budget: budgetFactor times its size plus
// budgetBase. The walk allocates nothing and stops at the budget.
const (
	budgetFactor = 64
	budgetBase   = 1 << 20
)

// budget returns how many bytes the decoding of a message of n bytes may
// allocate.
func budget(n int) int { return budgetFactor*n + budgetBase }

// checkBudget returns an error matching errs.ErrTooLarge if decoding data
// into a value of type t (the pointed-to type) would allocate more than
// limit bytes by the estimate. Malformed data passes: the decoder refuses
// it with a better message.
func checkBudget(data []byte, t reflect.Type, limit int) error {
	p := planOf(t)
	if p != nil && p.amp > 0 && len(data) <= limit/p.amp {
		return nil // within the budget however it decodes: no need to walk
	}
	w := walker{data: data, limit: limit}
	w.item(p, 0)
	if w.cost > limit {
		return fmt.Errorf("%w: a message of %d bytes would take more than %d bytes decoded into %v", errs.ErrTooLarge, len(data), limit, t)
	}
	return nil
}

// Sizes of what the walk counts beyond a value's own bytes.
const (
	ifaceSize  = 16  // an interface
	boxedWord  = 8   // a number boxed in an interface
	mapHeader  = 64  // a map's header and first group
	mapSlotPad = 8   // a map slot's control byte and load factor, rounded up
	customCost = 64  // a value that decodes itself, beyond twice its bytes
	errorCost  = 128 // an item the decoder cannot put in its Go value
)

// walker walks CBOR data item by item, adding to cost what decoding each
// into its Go type allocates. It stops, with ok false, at malformed data
// or once cost passes limit.
type walker struct {
	data  []byte
	off   int
	cost  int
	limit int
	bad   bool
}

// add counts n bytes and reports whether the walk goes on.
func (w *walker) add(n int) bool {
	w.cost += n
	return w.cost <= w.limit && !w.bad
}

// head reads an item's head: its major type, additional information, and
// argument.
func (w *walker) head() (major byte, ai byte, arg uint64, ok bool) {
	if w.off < len(w.data) && w.data[w.off]&0x1f < 24 {
		// The usual head, one byte: read here, without the call.
		b := w.data[w.off]
		w.off++
		return b >> 5, b & 0x1f, uint64(b & 0x1f), true
	}
	major, ai, arg, n, ok := parseHead(w.data[w.off:])
	if !ok {
		w.bad = true // indefinite lengths are refused by the decoder
		return 0, 0, 0, false
	}
	w.off += n
	return major, ai, arg, true
}

// parseHead reads the head at the front of p: its major type, additional
// information, argument, and length. It reports false for a truncated
// head and for an indefinite length or a reserved value.
func parseHead(p []byte) (major, ai byte, arg uint64, n int, ok bool) {
	if len(p) == 0 {
		return 0, 0, 0, 0, false
	}
	major, ai = p[0]>>5, p[0]&0x1f
	switch {
	case ai < 24:
		return major, ai, uint64(ai), 1, true
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(p)-1 < size {
			return 0, 0, 0, 0, false
		}
		q := p[1 : 1+size]
		switch size {
		case 1:
			arg = uint64(q[0])
		case 2:
			arg = uint64(binary.BigEndian.Uint16(q))
		case 4:
			arg = uint64(binary.BigEndian.Uint32(q))
		default:
			arg = binary.BigEndian.Uint64(q)
		}
		return major, ai, arg, 1 + size, true
	}
	return 0, 0, 0, 0, false
}

// count checks that n items of at least one byte each can follow.
func (w *walker) count(n uint64, per uint64) (int, bool) {
	if n > uint64(len(w.data)-w.off)/per {
		w.bad = true
		return 0, false
	}
	return int(n), true
}

// item walks one item decoded into a value of plan t (nil: skipped by the
// decoder) at the given depth of nesting.
func (w *walker) item(t *plan, depth int) bool {
	if depth > maxNesting+1 {
		w.bad = true
		return false
	}
	if t != nil && t.self {
		start := w.off
		if !w.item(nil, depth) {
			return false
		}
		return w.add(2*(w.off-start) + customCost)
	}
	start := w.off
	major, ai, arg, ok := w.head()
	if !ok {
		return false
	}
	if t != nil && t.kind == reflect.Pointer {
		if major == 7 && (ai == 22 || ai == 23) { // null, undefined: a nil pointer
			return true
		}
		w.off = start
		return w.add(t.elemSize) && w.item(t.elem, depth+1)
	}
	if t != nil && t.kind == reflect.Interface {
		return w.anyItem(major, ai, arg, depth)
	}
	if t != nil && !fits(major, ai, t.kind) {
		// The decoder makes an error of it, and skips it.
		w.off = start
		return w.add(errorCost) && w.item(nil, depth+1)
	}
	switch major {
	case 2, 3:
		n, ok := w.count(arg, 1)
		if !ok {
			return false
		}
		w.off += n
		if t != nil && (t.kind == reflect.String || t.kind == reflect.Slice) {
			return w.add(n)
		}
		return true
	case 4:
		return w.array(t, arg, depth)
	case 5:
		return w.mapItem(t, arg, depth)
	case 6:
		return w.item(t, depth+1)
	}
	return true
}

// fits reports whether an item of the major type (and additional
// information) decodes into a value of kind k without an error.
func fits(major, ai byte, k reflect.Kind) bool {
	switch major {
	case 0, 1:
		return reflect.Int <= k && k <= reflect.Float64
	case 2, 3:
		return k == reflect.String || k == reflect.Slice || k == reflect.Array
	case 4:
		return k == reflect.Slice || k == reflect.Array || k == reflect.Struct
	case 5:
		return k == reflect.Map || k == reflect.Struct
	case 7:
		return ai == 22 || ai == 23 || (ai == 20 || ai == 21) && k == reflect.Bool || ai >= 25 && (k == reflect.Float32 || k == reflect.Float64)
	}
	return true // a tag: its content decides
}

// anyItem walks an item decoded into an interface, whose head is read.
func (w *walker) anyItem(major, ai byte, arg uint64, depth int) bool {
	switch major {
	case 0, 1:
		if arg < 256 && major == 0 {
			return true // small numbers are boxed without allocating
		}
		if arg >= 1<<63 {
			return w.add(customCost) // a big.Int
		}
		return w.add(boxedWord)
	case 2, 3:
		n, ok := w.count(arg, 1)
		if !ok {
			return false
		}
		w.off += n
		return w.add(n + 3*boxedWord)
	case 4:
		n, ok := w.count(arg, 1)
		if !ok || !w.add(3*boxedWord+n*ifaceSize) {
			return false
		}
		for range n {
			if !w.item(anyPlan, depth+1) {
				return false
			}
		}
		return true
	case 5:
		n, ok := w.count(arg, 2)
		// Grown one pair at a time: about twice the final table, and a
		// box for each key and value.
		if !ok || !w.add(mapHeader+2*mapCost(n, ifaceSize, ifaceSize)) {
			return false
		}
		for range 2 * n {
			if !w.item(anyPlan, depth+1) {
				return false
			}
		}
		return true
	case 6: // a Tag, a time or a big.Int, holding its content
		return w.add(customCost) && w.item(anyPlan, depth+1)
	case 7:
		if ai >= 25 {
			return w.add(boxedWord)
		}
	}
	return true
}

var anyPlan = &plan{kind: reflect.Interface}

// mapCost returns what n pairs of keys of k bytes and values of v bytes
// take in a Go map made for n: slots up to twice as many as pairs, each
// with its control byte.
func mapCost(n int, k, v uintptr) int {
	return 2 * n * (int(k+v) + mapSlotPad)
}

// array walks an array of n items decoded into a value of plan t.
func (w *walker) array(t *plan, arg uint64, depth int) bool {
	n, ok := w.count(arg, 1)
	if !ok {
		return false
	}
	if t != nil && t.kind == reflect.Slice && !w.add(n*t.elemSize) {
		return false
	}
	for i := range n {
		if !w.item(t.at(i), depth+1) {
			return false
		}
	}
	return true
}

// at returns the plan of the i-th item of an array decoded into a value
// of plan t; nil for an item the decoder skips.
func (t *plan) at(i int) *plan {
	switch {
	case t == nil:
		return nil
	case t.kind == reflect.Slice, t.kind == reflect.Array && i < t.len:
		return t.elem
	case t.kind == reflect.Struct && i < len(t.fields.ordered):
		return t.fields.ordered[i]
	}
	return nil
}

// mapItem walks a map of n pairs decoded into a value of plan t.
func (w *walker) mapItem(t *plan, arg uint64, depth int) bool {
	n, ok := w.count(arg, 2)
	if !ok {
		return false
	}
	switch {
	case t != nil && t.kind == reflect.Map:
		// The map, made for n pairs, and the decoder's set of the keys
		// seen (boxed), to find duplicates.
		k, v := uintptr(t.keySize), uintptr(t.elemSize)
		if !w.add(2*mapHeader + mapCost(n, k, v) + mapCost(n, ifaceSize, 1) + n*t.keySize) {
			return false
		}
		for range n {
			if !w.item(t.key, depth+1) || !w.item(t.elem, depth+1) {
				return false
			}
		}
		return true
	case t != nil && t.kind == reflect.Struct:
		if !w.add(len(t.fields.ordered)) { // the decoder's record of fields found
			return false
		}
		for range n {
			ft, ok := w.field(t.fields, depth)
			if !ok || !w.item(ft, depth+1) {
				return false
			}
		}
		return true
	}
	for range 2 * n {
		if !w.item(nil, depth+1) {
			return false
		}
	}
	return true
}

// field reads a struct's key and returns the plan of the field it names
// (nil for none: the decoder skips the value).
func (w *walker) field(fields *structFields, depth int) (*plan, bool) {
	start := w.off
	major, _, arg, ok := w.head()
	if !ok {
		return nil, false
	}
	switch major {
	case 3:
		n, ok := w.count(arg, 1)
		if !ok {
			return nil, false
		}
		name := w.data[w.off : w.off+n]
		w.off += n
		if ft, ok := fields.byName[string(name)]; ok { // no allocation
			return ft, true
		}
		var lower [64]byte
		if n > len(lower) {
			return fields.byName[strings.ToLower(string(name))], true
		}
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		return fields.byName[string(lower[:n])], true
	case 0:
		return fields.byInt[int64(arg)], true
	case 1:
		return fields.byInt[-1-int64(arg)], true
	}
	w.off = start
	return nil, w.item(nil, depth+1)
}

// plan is what the walk needs of a Go type, computed once per type.
type plan struct {
	kind reflect.Kind
	self bool // the decoder hands the value to its own methods
	// elem is what a pointer points to, or the element of a slice, an
	// array or a map; elemSize its size. key and keySize are a map's key.
	elem     *plan
	elemSize int
	key      *plan
	keySize  int
	len      int           // an array's length
	fields   *structFields // a struct's fields
	// amp bounds what the walk counts per byte of an item of this plan,
	// whatever the bytes; zero if there is no bound (a recursive type).
	amp int
}

// structFields is what the walk knows of a struct type's fields: their
// plans by name (and by lower-case name, as the decoder matches names
// without regard to case), by integer key, and in order (for structs
// encoded as arrays).
type structFields struct {
	byName  map[string]*plan
	byInt   map[int64]*plan
	ordered []*plan
}

var plans sync.Map // reflect.Type → *plan

// planOf returns the plan of t (nil: the untyped nil, skipped).
func planOf(t reflect.Type) *plan {
	if t == nil {
		return nil
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := makePlan(t, map[reflect.Type]*plan{})
	p.bound(map[*plan]bool{})
	v, _ := plans.LoadOrStore(t, p)
	return v.(*plan)
}

// makePlan makes the plan of t; made holds the plans under construction,
// for recursive types.
func makePlan(t reflect.Type, made map[reflect.Type]*plan) *plan {
	if p, ok := made[t]; ok {
		return p
	}
	p := &plan{kind: t.Kind()}
	made[t] = p
	if p.kind == reflect.Interface {
		return p
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(binaryUnmarshalerType) || t == bigIntType {
		p.self = true
		return p
	}
	switch p.kind {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		p.elem, p.elemSize = makePlan(t.Elem(), made), int(t.Elem().Size())
		if p.kind == reflect.Array {
			p.len = t.Len()
		}
	case reflect.Map:
		p.elem, p.elemSize = makePlan(t.Elem(), made), int(t.Elem().Size())
		p.key, p.keySize = makePlan(t.Key(), made), int(t.Key().Size())
	case reflect.Struct:
		p.fields = makeFields(t, made)
	}
	return p
}

// anyAmp bounds what the walk counts per byte of an item decoded into an
// interface: an empty map is the most, a header and twice a slot's worth
// for each of its pairs.
const anyAmp = mapHeader + 2*2*(2*ifaceSize+mapSlotPad) + customCost

// bound computes p.amp, and that of the plans p leads to; on the way
// holds the plans whose bound is being computed, to find recursion. It
// returns p.amp.
func (p *plan) bound(on map[*plan]bool) int {
	if p == nil {
		return errorCost
	}
	if p.amp > 0 || on[p] {
		return p.amp // zero while on the way: recursion, no bound
	}
	on[p] = true
	defer delete(on, p)
	amp := errorCost // any item of the wrong type
	var parts []int
	switch {
	case p.self:
		amp = max(amp, 2+customCost)
	case p.kind == reflect.Interface:
		amp = max(amp, anyAmp)
	case p.kind == reflect.Pointer, p.kind == reflect.Slice:
		parts = append(parts, p.elemSize, p.elem.bound(on))
	case p.kind == reflect.Array:
		parts = append(parts, 0, p.elem.bound(on))
	case p.kind == reflect.Map:
		parts = append(parts, 2*mapHeader+mapCost(1, uintptr(p.keySize), uintptr(p.elemSize))+mapCost(1, ifaceSize, 1)+p.keySize,
			p.key.bound(on), p.elem.bound(on))
	case p.kind == reflect.Struct:
		parts = append(parts, len(p.fields.ordered))
		for _, f := range p.fields.ordered {
			parts = append(parts, f.bound(on))
		}
	}
	if len(parts) > 0 {
		sum := 0
		for i, n := range parts {
			if n == 0 && i > 0 { // a part without a bound
				return 0
			}
			sum += n
		}
		amp = max(amp, sum)
	}
	p.amp = amp
	return amp
}

func makeFields(t reflect.Type, made map[reflect.Type]*plan) *structFields {
	f := &structFields{byName: map[string]*plan{}, byInt: map[int64]*plan{}}
	for _, sf := range reflect.VisibleFields(t) {
		name, skip := fieldName(sf)
		if skip {
			continue
		}
		fp := makePlan(sf.Type, made)
		f.byName[name] = fp
		if _, dup := f.byName[strings.ToLower(name)]; !dup {
			f.byName[strings.ToLower(name)] = fp
		}
		if n, err := strconv.ParseInt(name, 10, 64); err == nil {
			f.byInt[n] = fp
		}
		f.ordered = append(f.ordered, fp)
	}
	return f
}

// fieldName returns the name the codec gives a struct field, and whether
// the codec leaves it out.
func fieldName(sf reflect.StructField) (string, bool) {
	if !sf.IsExported() && !sf.Anonymous || sf.Name == "_" {
		return "", true
	}
	if sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.Tag.Get("cbor") == "" && sf.Tag.Get("json") == "" {
		return "", true // its fields are promoted
	}
	tag, ok := sf.Tag.Lookup("cbor")
	if !ok {
		tag = sf.Tag.Get("json")
	}
	if tag == "-" {
		return "", true
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name, false
	}
	return sf.Name, false
}
