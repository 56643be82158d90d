package s3test

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// docs/servers.md's table of departures agrees with capsOf for every
// server, and has one row per Caps field, so the page cannot rot.
func TestServersPage(t *testing.T) {
	page, err := os.ReadFile("../../docs/servers.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "<!-- caps table")
	if !ok {
		t.Fatal("docs/servers.md: no caps table marker")
	}
	var rows [][]string
	for _, line := range strings.Split(rest, "\n")[1:] {
		line = strings.TrimSpace(line)
		if line == "" && len(rows) == 0 {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 3 {
		t.Fatalf("docs/servers.md: caps table has %d rows", len(rows))
	}
	header, rows := rows[0], rows[2:]
	servers := map[int]string{}
	for i, h := range header[2:] {
		_, name, _ := strings.Cut(h, "`")
		name, _, _ = strings.Cut(name, "`")
		servers[i+2] = name
	}
	for _, want := range []string{InProcess, "minio", "versitygw", "moto"} {
		found := false
		for _, s := range servers {
			found = found || s == want
		}
		if !found {
			t.Errorf("docs/servers.md: no column for %s", want)
		}
	}

	typ := reflect.TypeFor[Caps]()
	seen := map[string]bool{}
	for _, row := range rows {
		if len(row) != len(header) {
			t.Errorf("docs/servers.md: row %q has %d cells; want %d", row[0], len(row), len(header))
			continue
		}
		field := strings.Trim(row[1], "`")
		if _, ok := typ.FieldByName(field); !ok {
			t.Errorf("docs/servers.md: row %q names %q, which is no Caps field", row[0], row[1])
			continue
		}
		seen[field] = true
		for col, server := range servers {
			cell := strings.TrimPrefix(row[col], "**")
			var departs bool
			switch {
			case strings.HasPrefix(cell, "yes"):
			case strings.HasPrefix(cell, "no"):
				departs = true
			default:
				t.Errorf("docs/servers.md: %s for %s is %q; want yes or no", field, server, row[col])
				continue
			}
			if got := reflect.ValueOf(capsOf(server)).FieldByName(field).Bool(); got != departs {
				t.Errorf("docs/servers.md says %s for %s is %q, but capsOf(%q).%s = %v", row[0], server, row[col], server, field, got)
			}
		}
	}
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; !seen[name] {
			t.Errorf("docs/servers.md: no row for Caps.%s", name)
		}
	}
}
