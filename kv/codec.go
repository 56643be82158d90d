package kv

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
)

// Codec turns values of type V into bytes and back. Typed uses one to keep
// values of type V in a Store[[]byte]. A Codec is safe for concurrent use.
type Codec[V any] interface {
	// Encode returns the bytes of v. The result must not share memory that
	// the caller of Encode may change later.
	Encode(v V) ([]byte, error)
	// Decode returns the value whose bytes are data. It must not keep data.
	Decode(data []byte) (V, error)
}

// JSON returns a Codec that stores values as JSON, with encoding/json.
// Only exported struct fields are kept, as encoding/json does.
func JSON[V any]() Codec[V] {
	return jsonCodec[V]{}
}

type jsonCodec[V any] struct{}

func (jsonCodec[V]) Encode(v V) ([]byte, error) {
	return json.Marshal(v)
}

func (jsonCodec[V]) Decode(data []byte) (V, error) {
	var v V
	err := json.Unmarshal(data, &v)
	return v, err
}

// Gob returns a Codec that stores values with encoding/gob. Each value is a
// complete gob stream of its own, type description included, so any value
// decodes without the ones stored before it.
func Gob[V any]() Codec[V] {
	return gobCodec[V]{}
}

type gobCodec[V any] struct{}

func (gobCodec[V]) Encode(v V) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (gobCodec[V]) Decode(data []byte) (V, error) {
	var v V
	err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v)
	return v, err
}
