package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Set overrides one field, named by its path in config.json ("display.dpi"),
// with a value written as on a command line. It does not validate the whole
// configuration; call Validate after the last Set.
func (c *Config) Set(path, value string) error {
	v := reflect.ValueOf(c).Elem()
	for _, part := range strings.Split(path, ".") {
		if v.Kind() != reflect.Struct || v.Type() == durationType {
			return fmt.Errorf("%s: not a field (see -help for the field list)", path)
		}
		f, ok := fieldByTag(v, part)
		if !ok {
			return fmt.Errorf("%s: unknown field (see -help for the field list)", path)
		}
		v = f
	}
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: must be a duration such as 60s", path)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(value)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		// A list is written comma-separated: -set time.ntp_servers=a,b
		var list []string
		for _, s := range strings.Split(value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		v.Set(reflect.ValueOf(list))
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%s: must be a whole number", path)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%s: must be a number", path)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%s: must be true or false", path)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("%s: is a section; set one of its fields", path)
	}
	return nil
}

// Fields lists every settable field path of the configuration, sorted.
func Fields() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			ft := t.Field(i).Type
			if ft.Kind() == reflect.Struct && ft != durationType {
				walk(ft, prefix+name+".")
				continue
			}
			out = append(out, prefix+name)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	sort.Strings(out)
	return out
}
