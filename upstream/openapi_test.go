package upstream_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// openAPI is the part of the document the agreement test reads.
type openAPI struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas"`
	} `yaml:"components"`
}

type schema struct {
	Required   []string          `yaml:"required"`
	Properties map[string]schema `yaml:"properties"`
	Enum       []string          `yaml:"enum"`
	Items      *schema           `yaml:"items"`
}

func loadDoc(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	return doc
}

// TestOpenAPIPaths: the document lists exactly upstream.Endpoints.
func TestOpenAPIPaths(t *testing.T) {
	doc := loadDoc(t)
	var inDoc, inCode []string
	for path, ops := range doc.Paths {
		for m := range ops {
			inDoc = append(inDoc, strings.ToUpper(m)+" "+path)
		}
	}
	for _, e := range upstream.Endpoints {
		inCode = append(inCode, e.Method+" "+e.Path)
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	if !slices.Equal(inDoc, inCode) {
		t.Errorf("openapi.yaml operations %v, code %v", inDoc, inCode)
	}
}

// TestOpenAPISchemas: every schema's properties are exactly the JSON
// fields of its Go type, and required ones exist.
func TestOpenAPISchemas(t *testing.T) {
	doc := loadDoc(t)
	types := map[string]any{
		"Registration": upstream.Registration{}, "Household": upstream.Household{}, "Contact": upstream.Contact{},
		"Phone": upstream.Phone{}, "Registered": upstream.Registered{}, "Identify": upstream.Identify{},
		"Verification": upstream.Verification{}, "Cancellation": upstream.Cancellation{},
		"ResetConfirm": upstream.ResetConfirm{}, "StatusReply": upstream.StatusReply{}, "Terms": upstream.Terms{},
		"Divisions": upstream.Divisions{}, "County": upstream.County{}, "Township": upstream.Township{}, "Village": upstream.Village{},
		"ErrorBody": upstream.ErrorBody{}, "Error": upstream.Error{}, "FieldError": upstream.FieldError{},
		"Login": upstream.Login{}, "Session": upstream.Session{}, "Account": upstream.Account{},
		"ContactChanged": upstream.ContactChanged{}, "EmailConfirm": upstream.EmailConfirm{},
		"PasswordChange": upstream.PasswordChange{}, "PasswordChanged": upstream.PasswordChanged{}, "BindingStart": upstream.BindingStart{}, "Binding": upstream.Binding{},
		"BindingStatus": upstream.BindingStatus{}, "Bind": upstream.Bind{}, "Device": upstream.Device{},
		"DeviceList": upstream.DeviceList{}, "DeviceRemove": upstream.DeviceRemove{},
		"ServerTime":    upstream.ServerTime{},
		"CardAuthBegin": upstream.CardAuthBegin{}, "CardAuthStep": upstream.CardAuthStep{},
		"CardAuthRespond": upstream.CardAuthRespond{}, "CardResponse": upstream.CardResponse{},
	}
	for name := range doc.Components.Schemas {
		if name == "CardProof" { // a string, not an object
			continue
		}
		if _, ok := types[name]; !ok {
			t.Errorf("schema %s has no Go type in this test", name)
		}
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("openapi.yaml lacks schema %s", name)
			continue
		}
		var got []string
		for p := range s.Properties {
			got = append(got, p)
		}
		want := jsonFields(reflect.TypeOf(v))
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s properties %v, Go fields %v", name, got, want)
		}
		for _, r := range s.Required {
			if !slices.Contains(want, r) {
				t.Errorf("schema %s requires %s, which is not a field", name, r)
			}
		}
	}
}

func jsonFields(rt reflect.Type) []string {
	var out []string
	for i := range rt.NumField() {
		tag := rt.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPICodes: the error code enum is exactly the ErrCode constants,
// and the field code enum exactly package rules' codes plus
// FieldCodeUnknown. The constants are read from the source.
func TestOpenAPICodes(t *testing.T) {
	doc := loadDoc(t)
	errCodes := constants(t, "errors.go", "ErrCode")
	fieldCodes := append(constants(t, "../rules/rules.go", "Code"), constants(t, "../rules/contact.go", "Code")...)
	fieldCodes = append(fieldCodes, upstream.FieldCodeUnknown)
	for _, c := range []struct {
		name     string
		doc, src []string
	}{
		{"Error.code", doc.Components.Schemas["Error"].Properties["code"].Enum, errCodes},
		{"FieldError.code", doc.Components.Schemas["FieldError"].Properties["code"].Enum, fieldCodes},
	} {
		d, s := slices.Clone(c.doc), slices.Clone(c.src)
		sort.Strings(d)
		sort.Strings(s)
		if !slices.Equal(d, s) || len(d) == 0 {
			t.Errorf("%s enum %v, source %v", c.name, d, s)
		}
	}
}

// constants returns the string values of the constants named prefix* in file.
func constants(t *testing.T, file, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, id := range vs.Names {
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.HasPrefix(id.Name, prefix) {
				v, _ := strconv.Unquote(lit.Value)
				out = append(out, v)
			}
		}
		return true
	})
	return out
}
