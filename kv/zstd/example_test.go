package zstd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/s3map/s3map/kv"
	"github.com/s3map/s3map/kv/zstd"
)

func ExampleNew() {
	ctx := context.Background()
	raw := kv.NewMemory[[]byte]()
	// A value stored before compression was turned on.
	_ = raw.Set(ctx, "old", []byte("stored as it is"))

	s := zstd.New(raw, nil)
	text := []byte(strings.Repeat("all work and no play makes a dull value; ", 100))
	if err := s.Set(ctx, "new", text); err != nil {
		fmt.Println(err)
		return
	}

	got, _ := s.Get(ctx, "new")
	stored, _ := raw.Get(ctx, "new")
	fmt.Println("round trip:", bytes.Equal(got, text))
	fmt.Println("stored smaller:", len(stored) < len(text)/10)

	old, err := s.Get(ctx, "old")
	fmt.Printf("%s %v\n", old, err)
	// Output:
	// round trip: true
	// stored smaller: true
	// stored as it is <nil>
}

func ExampleNew_maxValueSize() {
	ctx := context.Background()
	s := zstd.New(kv.NewMemory[[]byte](), &zstd.Options{MaxValueSize: 1024})
	err := s.Set(ctx, "big", make([]byte, 2048))
	fmt.Println(errors.Is(err, kv.ErrValueTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// kv: key "big": encoding value: kv: value too large: 2048 bytes is over the limit of 1024 bytes
}
