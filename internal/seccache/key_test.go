package seccache

import (
	"reflect"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// The entry's name changes with every field of the filter, the fields of
// its rules and their arguments included: found by reflection, so that a
// field libcontainer adds fails this test until entryName writes it.
func TestEntryNameCoversEveryField(t *testing.T) {
	base := func() *configs.Seccomp {
		return &configs.Seccomp{Syscalls: []*configs.Syscall{{Args: []*configs.Arg{{}}}}}
	}
	seen := map[string]bool{entryName(base()): true}
	check := func(what string, set func(sc *configs.Seccomp) reflect.Value, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Name == "Syscalls" || f.Name == "Args" {
				continue // checked field by field below
			}
			sc := base()
			setNonZero(t, set(sc).Field(i), what+"."+f.Name)
			name := entryName(sc)
			if seen[name] {
				t.Errorf("%s.%s: the entry's name does not change with it", what, f.Name)
			}
			seen[name] = true
		}
	}
	check("Seccomp", func(sc *configs.Seccomp) reflect.Value { return reflect.ValueOf(sc).Elem() }, reflect.TypeFor[configs.Seccomp]())
	check("Syscall", func(sc *configs.Seccomp) reflect.Value { return reflect.ValueOf(sc.Syscalls[0]).Elem() }, reflect.TypeFor[configs.Syscall]())
	check("Arg", func(sc *configs.Seccomp) reflect.Value { return reflect.ValueOf(sc.Syscalls[0].Args[0]).Elem() }, reflect.TypeFor[configs.Arg]())

	// Lists are told apart from their concatenations, and nil from absent.
	for _, sc := range []*configs.Seccomp{
		{Architectures: []string{"ab"}},
		{Architectures: []string{"a", "b"}},
		{Syscalls: []*configs.Syscall{nil}},
		{Syscalls: []*configs.Syscall{{}}},
		{Syscalls: []*configs.Syscall{{Args: []*configs.Arg{nil}}}},
	} {
		if name := entryName(sc); seen[name] {
			t.Errorf("%+v: named as another filter", sc)
		} else {
			seen[name] = true
		}
	}
}

// setNonZero sets v, a field of one of the seccomp configuration's types,
// to a value that is not its zero.
func setNonZero(t *testing.T, v reflect.Value, what string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Kind() == reflect.String {
			e.SetString("x")
		}
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), e))
	default:
		t.Fatalf("%s: a field of kind %s, which this test cannot set", what, v.Kind())
	}
}
