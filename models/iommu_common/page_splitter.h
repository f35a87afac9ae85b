// SPDX-License-Identifier: Apache-2.0
// The page-split forwarder: a DMA that crosses the page its first translation
// maps is sent downstream as one access per page, each page translated and
// checked before anything of it is sent. Nothing reaches memory beyond a page
// a translation allowed: a fault on page k answers the DMA with that fault
// after pages 0..k-1 were sent, and page k onwards is never sent.
//
// TLM-2.0 payload rules kept (IEEE 1666-2011 clause 14, the generic payload's
// byte enable and streaming width attributes):
//   - byte enables: data byte j is enabled by be[j % be_length]; each piece
//     gets the byte-enable pattern of its own bytes (a view into the original
//     array, or the pattern rotated into a scratch buffer when the piece starts
//     inside a repetition of it);
//   - streaming width: a burst with streaming width w < data length touches
//     only [address, address + w), once per beat of w bytes; where that window
//     crosses a page, every beat is split at the same offsets.
// The payload's address, data pointer, data length, streaming width and byte
// enables are restored after; its response is the fault's, the first failing
// piece's, or OK.
//
// No allocation per access once the scratch buffers have grown to the largest
// burst seen. Header-only: the callbacks inline into the caller. One splitter
// serves one process at a time (the scratch buffers are its own), like
// TlmMemoryPort.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>
#include <systemc>
#include <tlm>

namespace iommusim::iommu {

// Where a translation put an input address.
struct PageMapping {
  uint64_t out_addr = 0;   // output address of the input address translated
  uint64_t page_size = 0;  // bytes of the page that maps it (a power of two; 0: 4 KiB)
};

// 4 KiB, the smallest page of every unit here, for a mapping that names none.
constexpr uint64_t kSmallestPage = 4096;
constexpr uint64_t page_size_of(const PageMapping& m) { return m.page_size ? m.page_size : kSmallestPage; }

// Bytes of address space a payload touches from its address: its data length,
// or its streaming width when that is shorter.
inline unsigned span_of(const tlm::tlm_generic_payload& t) {
  const unsigned len = t.get_data_length(), sw = t.get_streaming_width();
  return sw != 0 && sw < len ? sw : len;
}

// Does [addr, addr + span) stay in the page of `page_size` bytes holding addr?
constexpr bool within_page(uint64_t addr, uint64_t span, uint64_t page_size) {
  return (addr & (page_size - 1)) + span <= page_size;
}

class PageSplitter {
public:
  // Sends `trans` (whose address `first` translates) downstream, split per
  // page where it crosses one.
  //   translate(uint64_t in_addr, PageMapping& m) -> bool: translates and
  //     checks the page holding in_addr (a page start); false if it faulted,
  //     after answering the payload with the fault (its response status).
  //   send(tlm_generic_payload& t, uint64_t out_addr, sc_time& delay): sends
  //     t, whose address is the piece's input address, to out_addr.
  template <class Translate, class Send>
  void forward(tlm::tlm_generic_payload& trans, const PageMapping& first, Translate&& translate, Send&& send,
               sc_core::sc_time& delay) {
    const unsigned span = span_of(trans);
    if (within_page(trans.get_address(), span, page_size_of(first))) {
      send(trans, first.out_addr, delay);
      return;
    }
    const Fields whole(trans);
    pieces_.clear();
    // First beat (the only one unless the burst streams): translate each page
    // just before sending its piece.
    PageMapping m = first;
    for (unsigned offset = 0; offset < span;) {
      if (offset != 0 && !translate(whole.address + offset, m)) return whole.restore(trans);
      const uint64_t ps = page_size_of(m);
      const uint64_t in_page_left = ps - ((whole.address + offset) & (ps - 1));
      const Piece p{offset, static_cast<unsigned>(std::min<uint64_t>(span - offset, in_page_left)), m.out_addr};
      pieces_.push_back(p);
      if (!send_piece(trans, whole, 0, p, send, delay)) return whole.restore(trans);
      offset += p.length;
    }
    // Further beats of a streaming burst, over the pages already translated.
    for (unsigned beat = span; beat < whole.length; beat += span)
      for (const Piece& p : pieces_)
        if (beat + p.offset < whole.length && !send_piece(trans, whole, beat, p, send, delay))
          return whole.restore(trans);
    whole.restore(trans);
  }

private:
  // The payload fields this forwarder changes.
  struct Fields {
    explicit Fields(const tlm::tlm_generic_payload& t)
        : address(t.get_address()),
          data(t.get_data_ptr()),
          length(t.get_data_length()),
          streaming_width(t.get_streaming_width()),
          byte_enables(t.get_byte_enable_ptr()),
          byte_enable_length(t.get_byte_enable_length()) {}
    void restore(tlm::tlm_generic_payload& t) const {
      t.set_address(address);
      t.set_data_ptr(data);
      t.set_data_length(length);
      t.set_streaming_width(streaming_width);
      t.set_byte_enable_ptr(byte_enables);
      t.set_byte_enable_length(byte_enable_length);
    }
    uint64_t address;
    unsigned char* data;
    unsigned length, streaming_width;
    unsigned char* byte_enables;
    unsigned byte_enable_length;
  };
  // One page's part of the address window: [offset, offset + length) from
  // the payload's address, at out_addr.
  struct Piece {
    unsigned offset;
    unsigned length;
    uint64_t out_addr;
  };

  // Sends the bytes of `p` in the beat starting at data offset `beat`; true if
  // downstream answered OK.
  template <class Send>
  bool send_piece(tlm::tlm_generic_payload& t, const Fields& whole, unsigned beat, const Piece& p, Send& send,
                  sc_core::sc_time& delay) {
    const unsigned first = beat + p.offset;
    const unsigned n = std::min(p.length, whole.length - first);
    t.set_address(whole.address + p.offset);
    t.set_data_ptr(whole.data + first);
    t.set_data_length(n);
    t.set_streaming_width(n);
    if (whole.byte_enables && whole.byte_enable_length) set_byte_enables(t, whole, first, n);
    send(t, p.out_addr, delay);
    return t.is_response_ok();
  }

  // The byte enables of data bytes [first, first + n).
  void set_byte_enables(tlm::tlm_generic_payload& t, const Fields& whole, unsigned first, unsigned n) {
    const unsigned period = whole.byte_enable_length, phase = first % period;
    if (phase + n <= period) {  // a slice of the pattern, no wrap
      t.set_byte_enable_ptr(whole.byte_enables + phase);
      t.set_byte_enable_length(n);
      return;
    }
    rotated_.resize(period);
    for (unsigned i = 0; i < period; ++i) rotated_[i] = whole.byte_enables[(phase + i) % period];
    t.set_byte_enable_ptr(rotated_.data());
    t.set_byte_enable_length(period);
  }

  std::vector<Piece> pieces_;
  std::vector<unsigned char> rotated_;
};

}  // namespace iommusim::iommu
