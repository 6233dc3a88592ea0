package svc

import "reflect"

// IsNil reports whether v is nil, or an interface holding a nil pointer,
// map, slice, channel or function: a *sqlstore.Store left nil by an
// ignored error passes v == nil but would panic at first use, so the
// constructors refuse it here.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}
