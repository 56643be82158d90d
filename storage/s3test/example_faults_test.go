package s3test_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/s3map/s3map/storage"
	"github.com/s3map/s3map/storage/s3test"
)

// A PutObject whose reply is lost: the server stores the object, the
// proxy resets the connection instead of answering, and the SDK's retryer
// sends the request again.
func ExampleInjector() {
	ctx := context.Background()
	srv := s3test.NewServer()
	defer srv.Close()

	inj := s3test.NewInjector(nil) // no random faults; scripted ones only
	proxy, err := inj.Proxy(srv.URL)
	if err != nil {
		panic(err)
	}
	defer proxy.Close()

	cfg := srv.Config()
	cfg.Endpoint = proxy.URL // every request goes through the proxy
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		panic(err)
	}

	inj.Script("PutObject", s3test.ResetAfter)
	_, err = st.Put(ctx, storage.Name{Key: "greeting"}, strings.NewReader("hello"), nil)
	fmt.Println("Put:", err)
	fmt.Println("injected:", inj.Faults())
	fmt.Println("PutObject requests:", inj.Stats().ByOperation["PutObject"])

	r, err := srv.Storage().Get(ctx, storage.Name{Key: "greeting"}, nil)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	fmt.Printf("stored: %q\n", b)
	// Output:
	// Put: <nil>
	// injected: [PutObject ResetAfter]
	// PutObject requests: 2
	// stored: "hello"
}
