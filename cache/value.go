package cache

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// valueKind tells how nodes hold values of one type. A value that fits in
// one machine word is read and written atomically, so that a Set on a
// present key can write the new value into the entry's node while readers
// go on without a lock. Any other value is written once, before the node is
// published, and a Set on a present key publishes a new node.
type valueKind uint8

const (
	inlineValue  valueKind = iota // written once; replaced with its node
	emptyValue                    // of size zero: nothing to store
	word32Value                   // 4 bytes without pointers
	word64Value                   // 8 bytes without pointers
	pointerValue                  // one pointer: a pointer, map, channel or function
)

// kindOf returns how nodes hold values of type V.
func kindOf[V any]() valueKind {
	t := reflect.TypeFor[V]()
	switch {
	case t.Size() == 0:
		return emptyValue
	case pointerShaped(t):
		return pointerValue
	case hasPointers(t):
		return inlineValue
	case t.Size() == 4:
		return word32Value
	case t.Size() == 8:
		return word64Value
	}
	return inlineValue
}

// pointerShaped reports whether a value of type t is one pointer.
func pointerShaped(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func:
		return true
	}
	return false
}

// hasPointers reports whether a value of type t holds a pointer the garbage
// collector must see.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}

// value returns the node's value. The value is the node's first field, so a
// word-sized one is aligned for atomic access.
func (n *node[K, V]) value(k valueKind) V {
	p := unsafe.Pointer(&n.val)
	switch k {
	case word64Value:
		w := (*atomic.Uint64)(p).Load()
		return *(*V)(unsafe.Pointer(&w))
	case word32Value:
		w := (*atomic.Uint32)(p).Load()
		return *(*V)(unsafe.Pointer(&w))
	case pointerValue:
		w := atomic.LoadPointer((*unsafe.Pointer)(p))
		return *(*V)(unsafe.Pointer(&w))
	}
	return n.val
}

// swapValue writes v into the node, which readers may be reading, and
// returns the value it held. k must not be inlineValue. The caller holds the
// node's stripe (see table).
func (n *node[K, V]) swapValue(k valueKind, v V) V {
	p := unsafe.Pointer(&n.val)
	var old V
	switch k {
	case word64Value:
		w := (*atomic.Uint64)(p).Swap(*(*uint64)(unsafe.Pointer(&v)))
		old = *(*V)(unsafe.Pointer(&w))
	case word32Value:
		w := (*atomic.Uint32)(p).Swap(*(*uint32)(unsafe.Pointer(&v)))
		old = *(*V)(unsafe.Pointer(&w))
	case pointerValue:
		w := atomic.SwapPointer((*unsafe.Pointer)(p), *(*unsafe.Pointer)(unsafe.Pointer(&v)))
		old = *(*V)(unsafe.Pointer(&w))
	}
	return old
}
