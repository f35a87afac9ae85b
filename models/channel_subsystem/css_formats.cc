// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/css_formats.h"

#include "common/byte_order.h"

namespace iommusim::css {

Orb decode_orb(const uint8_t* b) {
  Orb o;
  o.intparm = load_be32(b);
  o.word1 = load_be32(b + 4);
  o.word2 = load_be32(b + 8);
  return o;
}

void encode_orb(const Orb& o, uint8_t* b) {
  store_be32(b, o.intparm);
  store_be32(b + 4, o.word1);
  store_be32(b + 8, o.word2);
}

bool orb_is_valid(const Orb& o) {
  return orb1::RESERVED.extract(o.word1) == 0 && !o.has(orb1::B) && !(o.word2 & orb2::ZERO);
}

Ccw decode_ccw(const uint8_t* b, bool format1) {
  const uint32_t w0 = load_be32(b), w1 = load_be32(b + 4);
  Ccw c;
  if (format1) {
    c.cmd = static_cast<uint8_t>(ccw1::CMD.extract(w0));
    c.flags = static_cast<uint8_t>(ccw1::FLAGS.extract(w0));
    c.count = static_cast<uint16_t>(ccw1::COUNT.extract(w0));
    c.address = w1 & ~static_cast<uint32_t>(ccw1::ADDRESS_BIT0);
    c.address_bit0 = (w1 & ccw1::ADDRESS_BIT0) != 0;
  } else {
    c.cmd = static_cast<uint8_t>(ccw0::CMD.extract(w0));
    c.address = static_cast<uint32_t>(ccw0::ADDRESS.extract(w0));
    c.flags = static_cast<uint8_t>(ccw0::FLAGS.extract(w1));
    c.count = static_cast<uint16_t>(ccw0::COUNT.extract(w1));
  }
  return c;
}

void encode_ccw(const Ccw& c, bool format1, uint8_t* b) {
  if (format1) {
    store_be32(b, static_cast<uint32_t>(ccw1::CMD.encode(c.cmd) | ccw1::FLAGS.encode(c.flags) |
                                        ccw1::COUNT.encode(c.count)));
    store_be32(b + 4, c.address | (c.address_bit0 ? static_cast<uint32_t>(ccw1::ADDRESS_BIT0) : 0u));
  } else {
    store_be32(b, static_cast<uint32_t>(ccw0::CMD.encode(c.cmd) | ccw0::ADDRESS.encode(c.address)));
    store_be32(b + 4, static_cast<uint32_t>(ccw0::FLAGS.encode(c.flags) | ccw0::COUNT.encode(c.count)));
  }
}

// PoP 15, "Command Code": xxxx0000 invalid, xxxx1000 TIC, xxxx0100 sense,
// xxxx1100 read backward, then by the two low-order bits: 01 write, 10 read,
// 11 control.
Operation operation_of(uint8_t cmd) {
  switch (cmd & 0x0f) {
    case 0x0: return Operation::Invalid;
    case 0x8: return Operation::Tic;
    case 0x4: return Operation::Sense;
    case 0xc: return Operation::ReadBackward;
    default: break;
  }
  switch (cmd & 0x3) {
    case 0x1: return Operation::Write;
    case 0x2: return Operation::Read;
    default: return Operation::Control;
  }
}

Midaw decode_midaw(const uint8_t* b) {
  Midaw m;
  m.word0 = load_be64(b);
  m.address = load_be64(b + 8);
  return m;
}

void encode_midaw(uint8_t flags, uint16_t count, uint64_t address, uint8_t* b) {
  store_be64(b, midaw0::FLAGS.encode(flags) | midaw0::COUNT.encode(count));
  store_be64(b + 8, address);
}

Scsw decode_scsw(const uint8_t* b) {
  Scsw s;
  s.word0 = load_be32(b);
  s.cpa = load_be32(b + 4);
  const uint32_t w2 = load_be32(b + 8);
  s.dstat = static_cast<uint8_t>(scsw2::DSTAT.extract(w2));
  s.cstat = static_cast<uint8_t>(scsw2::CSTAT.extract(w2));
  s.count = static_cast<uint16_t>(scsw2::COUNT.extract(w2));
  return s;
}

void encode_scsw(const Scsw& s, uint8_t* b) {
  store_be32(b, s.word0);
  store_be32(b + 4, s.cpa);
  store_be32(b + 8, static_cast<uint32_t>(scsw2::DSTAT.encode(s.dstat) | scsw2::CSTAT.encode(s.cstat) |
                                          scsw2::COUNT.encode(s.count)));
}

Schib decode_schib(const uint8_t* b) {
  Schib s;
  s.pmcw.intparm = load_be32(b);
  s.pmcw.word1 = load_be32(b + 4);
  s.pmcw.word2 = load_be32(b + 8);
  s.pmcw.word3 = load_be32(b + 12);
  for (unsigned i = 0; i < 8; ++i) s.pmcw.chpid[i] = b[16 + i];
  s.pmcw.word6 = load_be32(b + 24);
  s.scsw = decode_scsw(b + kPmcwBytes);
  s.mba = load_be64(b + kPmcwBytes + kScswBytes);
  s.mda = load_be32(b + kPmcwBytes + kScswBytes + 8);
  return s;
}

void encode_schib(const Schib& s, uint8_t* b) {
  store_be32(b, s.pmcw.intparm);
  store_be32(b + 4, s.pmcw.word1);
  store_be32(b + 8, s.pmcw.word2);
  store_be32(b + 12, s.pmcw.word3);
  for (unsigned i = 0; i < 8; ++i) b[16 + i] = s.pmcw.chpid[i];
  store_be32(b + 24, s.pmcw.word6);
  encode_scsw(s.scsw, b + kPmcwBytes);
  store_be64(b + kPmcwBytes + kScswBytes, s.mba);
  store_be32(b + kPmcwBytes + kScswBytes + 8, s.mda);
}

bool schib_is_valid(const Schib& s) {
  // Extended-measurement-word mode (X) needs a facility not installed here (as QEMU ioinst.c refuses it).
  return pmcw1::ZERO_5_7.extract(s.pmcw.word1) == 0 && (s.pmcw.word6 & pmcw6::RESERVED) == 0 &&
         !(s.pmcw.word6 & pmcw6::X);
}

Irb decode_irb(const uint8_t* b) {
  Irb irb;
  irb.scsw = decode_scsw(b);
  for (unsigned i = 0; i < 5; ++i) irb.esw[i] = load_be32(b + kScswBytes + 4 * i);
  for (unsigned i = 0; i < kEcwBytes; ++i) irb.ecw[i] = b[kScswBytes + kEswBytes + i];
  for (unsigned i = 0; i < kEmwBytes; ++i) irb.emw[i] = b[kScswBytes + kEswBytes + kEcwBytes + i];
  return irb;
}

void encode_irb(const Irb& irb, uint8_t* b) {
  encode_scsw(irb.scsw, b);
  for (unsigned i = 0; i < 5; ++i) store_be32(b + kScswBytes + 4 * i, irb.esw[i]);
  for (unsigned i = 0; i < kEcwBytes; ++i) b[kScswBytes + kEswBytes + i] = irb.ecw[i];
  for (unsigned i = 0; i < kEmwBytes; ++i) b[kScswBytes + kEswBytes + kEcwBytes + i] = irb.emw[i];
}

}  // namespace iommusim::css
