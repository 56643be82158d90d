package s3test_test

import (
	"strings"
	"testing"

	"github.com/s3map/s3map/storage/s3test"
)

func TestParseEndpoints(t *testing.T) {
	eps, err := s3test.ParseEndpoints(" minio=http://ak:sk@127.0.0.1:9000, ,gw=https://u:p@h:7070")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Name != "minio" || eps[0].Config.Endpoint != "http://127.0.0.1:9000" ||
		eps[0].Config.AccessKeyID != "ak" || eps[0].Config.SecretAccessKey != "sk" || *eps[0].Config.TLS ||
		eps[1].Config.Endpoint != "https://h:7070" || !*eps[1].Config.TLS {
		t.Errorf("ParseEndpoints = %+v", eps)
	}
}

// No error of ParseEndpoints shows the password, whatever is wrong.
func TestParseEndpointsHidesPassword(t *testing.T) {
	const secret = "S3cr3t"
	for _, s := range []string{
		"m=http://user:" + secret + "@127.0.0.1:9x",           // bad port
		"m=http://user:" + secret + "@host\x7f:1",             // control character
		"m=http://user:" + secret + "@[::1",                   // bad IPv6 host
		"m=http://user:" + secret + "@%zz",                    // bad escape
		"http://user:" + secret + "@127.0.0.1:9000",           // no name
		"http://user:pa=" + secret + "@127.0.0.1:9000",        // no name, "=" in the password
		"m=ftp://user:" + secret + "@h",                       // scheme
		"m=http://user:" + secret + "@",                       // no host
		"m=http://user:" + secret + "@h,m=http://u:p@h",       // name twice
		"m=http://user:" + secret + "@h:1,http://u:" + secret, // second entry bad
	} {
		_, err := s3test.ParseEndpoints(s)
		if err == nil {
			t.Errorf("ParseEndpoints accepted %q", s)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseEndpoints error shows the password: %v", err)
		}
	}
}
