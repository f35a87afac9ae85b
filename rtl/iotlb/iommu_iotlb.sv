// SPDX-License-Identifier: Apache-2.0
// Set-associative IOTLB with lookup, fill and invalidate channels.
//
// It keeps the same entries, makes the same replacement decisions and indexes
// its sets the same way as the C++ IOTLB of the VT-d model
// (models/common/set_assoc_cache.h with vtd::detail::IotlbKeyHash), so that
// the two can run in lockstep and either can serve the VT-d unit.
//
// Parameters
//   ENTRIES, WAYS  geometry; ENTRIES / WAYS sets, a power of two
//   POLICY         replacement when a set is full: 0 LRU, 1 tree pseudo-LRU,
//                  2 round robin, 3 random (splitmix64 seeded with SEED)
//   ATTR_W         width of the opaque attribute word stored with each entry
//
// Channels (valid/ready; a request is taken on a cycle where valid && ready):
//   lk_*    lookup of a key {vpn, pasid, sid, size}; a hit refreshes the
//           replacement state. Answer on lk_rsp_*: hit, way and the entry.
//   fill_*  insert or overwrite of a key with its entry (domain id, the
//           entry's PASID, output page, attributes). An invalid way of the set
//           is used first (the lowest), else the policy's victim. Answer on
//           fill_rsp_*: the way and, if a valid entry was replaced, its key.
//   inv_*   invalidation of every valid entry that matches all of the enabled
//           criteria: domain (inv_did), entry PASID (inv_pasid), and an
//           address range of 4 KiB << min(am, 52) bytes aligned down from
//           inv_addr overlapping the entry's page (VT-d 6.5.2.3 / 6.5.2.4
//           address mask semantics). No criterion: global invalidation.
//           Answer on inv_rsp_*: the number of entries removed.
// One request is served at a time: every request channel is ready only while
// no answer waits, and invalidation goes before fill before lookup. The answer
// is registered: it appears the cycle after the request is taken and stays
// until its ready is high.
//
// occupancy is the number of valid entries. dbg_index / dbg_* read one entry
// (set * WAYS + way) without side effects, for checkers' reports.
//
// Mutation for the checker's own test: with IOTLB_MUTANT_DOMAIN_INV_SKIPS_WAY
// defined, a domain-selective invalidation leaves the last way of every set.
module iommu_iotlb #(
    parameter int unsigned ENTRIES = 64,
    parameter int unsigned WAYS = 4,
    parameter int unsigned POLICY = 0,
    parameter logic [63:0] SEED = 64'd1,
    parameter int unsigned ATTR_W = 32
) (
    input  logic        clk,
    input  logic        rst_n,

    input  logic        lk_valid,
    output logic        lk_ready,
    input  logic [63:0] lk_vpn,
    input  logic [31:0] lk_pasid,
    input  logic [15:0] lk_sid,
    input  logic [1:0]  lk_size,
    output logic        lk_rsp_valid,
    input  logic        lk_rsp_ready,
    output logic        lk_rsp_hit,
    output logic [15:0] lk_rsp_way,
    output logic [15:0] lk_rsp_did,
    output logic [31:0] lk_rsp_pasid,
    output logic [63:0] lk_rsp_out_page,
    output logic [ATTR_W-1:0] lk_rsp_attr,

    input  logic        fill_valid,
    output logic        fill_ready,
    input  logic [63:0] fill_vpn,
    input  logic [31:0] fill_pasid,
    input  logic [15:0] fill_sid,
    input  logic [1:0]  fill_size,
    input  logic [15:0] fill_did,
    input  logic [31:0] fill_entry_pasid,
    input  logic [63:0] fill_out_page,
    input  logic [ATTR_W-1:0] fill_attr,
    output logic        fill_rsp_valid,
    input  logic        fill_rsp_ready,
    output logic [15:0] fill_rsp_way,
    output logic        fill_rsp_evicted,
    output logic [63:0] fill_rsp_ev_vpn,
    output logic [31:0] fill_rsp_ev_pasid,
    output logic [15:0] fill_rsp_ev_sid,
    output logic [1:0]  fill_rsp_ev_size,

    input  logic        inv_valid,
    output logic        inv_ready,
    input  logic        inv_match_did,
    input  logic        inv_match_pasid,
    input  logic        inv_match_page,
    input  logic [15:0] inv_did,
    input  logic [31:0] inv_pasid,
    input  logic [63:0] inv_addr,
    input  logic [5:0]  inv_am,
    output logic        inv_rsp_valid,
    input  logic        inv_rsp_ready,
    output logic [31:0] inv_rsp_count,

    output logic [31:0] occupancy,

    input  logic [31:0] dbg_index,
    output logic        dbg_valid,
    output logic [63:0] dbg_vpn,
    output logic [31:0] dbg_pasid,
    output logic [15:0] dbg_sid,
    output logic [1:0]  dbg_size,
    output logic [15:0] dbg_did
);
  localparam int unsigned SETS = ENTRIES / WAYS;
  localparam int unsigned SET_W = SETS > 1 ? $clog2(SETS) : 1;
  localparam int unsigned WAY_W = WAYS > 1 ? $clog2(WAYS) : 1;
  localparam int unsigned IDX_W = ENTRIES > 1 ? $clog2(ENTRIES) : 1;
  localparam int unsigned TREE_W = WAYS > 1 ? WAYS - 1 : 1;
  localparam int unsigned LEVELS = WAYS > 1 ? $clog2(WAYS) : 0;

  // ---------------------------------------------------------------- storage
  logic [ENTRIES-1:0] valid_q;
  logic [63:0]       vpn_q[ENTRIES];
  logic [31:0]       kpasid_q[ENTRIES];
  logic [15:0]       sid_q[ENTRIES];
  logic [1:0]        size_q[ENTRIES];
  logic [15:0]       did_q[ENTRIES];
  logic [31:0]       epasid_q[ENTRIES];
  logic [63:0]       out_q[ENTRIES];
  logic [ATTR_W-1:0] attr_q[ENTRIES];
  logic [WAY_W-1:0]  rank_q[ENTRIES];  // LRU: 0 = most recently used in its set
  logic [TREE_W-1:0] tree_q[SETS];     // PLRU: node bits, node n has children 2n+1, 2n+2
  logic [WAY_W-1:0]  rr_q[SETS];       // round robin: next victim
  logic [63:0]       rng_q;            // random: splitmix64 state
  logic [31:0]       occ_q;

  // ---------------------------------------------------------------- helpers
  // The set of a key: the model's IotlbKeyHash, low bits.
  function automatic logic [SET_W-1:0] set_of(input logic [63:0] vpn, input logic [31:0] pasid,
                                              input logic [15:0] sid, input logic [1:0] size);
    logic [63:0] mix;
    mix = ({48'd0, sid} * 64'h9e3779b1) ^ ({32'd0, pasid} * 64'h85ebca6b) ^ ({62'd0, size} * 64'hc2b2ae35);
    if (SETS == 1) return '0;
    return SET_W'(vpn ^ (mix >> 7));
  endfunction

  function automatic int unsigned slot(input logic [SET_W-1:0] set, input int unsigned way);
    return int'(set) * WAYS + way;
  endfunction

  // The way holding the key in `set`, or -1.
  function automatic int find_way(input logic [SET_W-1:0] set, input logic [63:0] vpn, input logic [31:0] pasid,
                                  input logic [15:0] sid, input logic [1:0] size);
    for (int unsigned w = 0; w < WAYS; w++) begin
      if (valid_q[slot(set, w)] && vpn_q[slot(set, w)] == vpn && kpasid_q[slot(set, w)] == pasid &&
          sid_q[slot(set, w)] == sid && size_q[slot(set, w)] == size)
        return int'(w);
    end
    return -1;
  endfunction

  function automatic int first_invalid_way(input logic [SET_W-1:0] set);
    for (int unsigned w = 0; w < WAYS; w++) if (!valid_q[slot(set, w)]) return int'(w);
    return -1;
  endfunction

  // PLRU: walks the tree from the root, toward `way` (an access: every node
  // bit on the path is set to point away from it) or, with `follow`, where the
  // bits point (the victim). Returns the way reached; `touched` gets the bits.
  function automatic int unsigned tree_walk(input logic [TREE_W-1:0] bits, input int unsigned way,
                                            input logic follow, output logic [TREE_W-1:0] touched);
    int unsigned node, lo, n;
    logic upper;
    node = 0;
    lo = 0;
    n = WAYS;
    touched = bits;
    for (int unsigned l = 0; l < LEVELS; l++) begin
      n = n / 2;
      upper = follow ? bits[node] : way >= lo + n;
      touched[node] = !upper;
      node = 2 * node + (upper ? 2 : 1);
      if (upper) lo = lo + n;
    end
    return lo;
  endfunction

  function automatic int unsigned lru_victim(input logic [SET_W-1:0] set);
    for (int unsigned w = 0; w < WAYS; w++) if (rank_q[slot(set, w)] == WAY_W'(WAYS - 1)) return w;
    return 0;
  endfunction

  // splitmix64 (Steele, Lea, Flood 2014) output for the advanced state.
  function automatic logic [63:0] splitmix_out(input logic [63:0] state);
    logic [63:0] z;
    z = state;
    z = (z ^ (z >> 30)) * 64'hbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 64'h94d049bb133111eb;
    return z ^ (z >> 31);
  endfunction

  // Does the invalidation request cover a valid entry with these fields?
  function automatic logic inv_covers(input logic [15:0] did, input logic [31:0] epasid, input logic [63:0] vpn,
                                      input logic [1:0] psize);
    logic [63:0] size, base, eb, ee;
    int unsigned sh;
    if (inv_match_did && did != inv_did) return 1'b0;
    if (inv_match_pasid && epasid != inv_pasid) return 1'b0;
    if (inv_match_page) begin
      size = 64'd4096 << (inv_am > 6'd52 ? 6'd52 : inv_am);
      base = inv_addr & ~(size - 64'd1);
      sh = 12 + 9 * int'(psize);
      eb = vpn << sh;
      ee = eb + ((64'd1 << sh) - 64'd1);
      if (!(eb <= base + size - 64'd1 && ee >= base)) return 1'b0;
    end
    return 1'b1;
  endfunction

  // ---------------------------------------------------------------- control
  typedef enum logic [1:0] {NONE, LOOKUP, FILL, INVALIDATE} answer_e;
  answer_e pending_q;

  // After reset the replacement state is initialised one set per cycle (as
  // an SRAM would be); no request is taken until that sweep is done.
  logic             init_q;
  logic [SET_W-1:0] init_set_q;

  assign inv_ready = pending_q == NONE && !init_q;
  assign fill_ready = pending_q == NONE && !init_q && !inv_valid;
  assign lk_ready = pending_q == NONE && !init_q && !inv_valid && !fill_valid;
  assign lk_rsp_valid = pending_q == LOOKUP;
  assign fill_rsp_valid = pending_q == FILL;
  assign inv_rsp_valid = pending_q == INVALIDATE;
  assign occupancy = occ_q;

  wire take_inv = inv_valid && inv_ready;
  wire take_fill = fill_valid && fill_ready;
  wire take_lk = lk_valid && lk_ready;
  wire answered = (lk_rsp_valid && lk_rsp_ready) || (fill_rsp_valid && fill_rsp_ready) ||
                  (inv_rsp_valid && inv_rsp_ready);

  // Lookup: the set and the way hit (-1: miss).
  logic [SET_W-1:0] lk_set;
  int lk_way;
  assign lk_set = set_of(lk_vpn, lk_pasid, lk_sid, lk_size);
  assign lk_way = find_way(lk_set, lk_vpn, lk_pasid, lk_sid, lk_size);

  // Fill: the way taken, whether it was invalid, whether a valid entry goes.
  logic [SET_W-1:0] fill_set;
  int fill_hit_way, fill_free_way;
  int unsigned fill_victim, fill_way;
  logic [63:0] rng_next;
  assign fill_set = set_of(fill_vpn, fill_pasid, fill_sid, fill_size);
  assign fill_hit_way = find_way(fill_set, fill_vpn, fill_pasid, fill_sid, fill_size);
  assign fill_free_way = first_invalid_way(fill_set);
  assign rng_next = rng_q + 64'h9e3779b97f4a7c15;
  logic [TREE_W-1:0] unused_bits;  // the victim search changes no bits
  always_comb begin
    case (POLICY)
      0: fill_victim = lru_victim(fill_set);
      1: fill_victim = WAYS > 1 ? tree_walk(tree_q[fill_set], 0, 1'b1, unused_bits) : 0;
      2: fill_victim = int'(rr_q[fill_set]);
      default: fill_victim = int'(splitmix_out(rng_next) % 64'(WAYS));
    endcase
  end
  wire fill_new = fill_hit_way < 0;
  wire fill_replaces = fill_new && fill_free_way < 0;
  assign fill_way = !fill_new ? fill_hit_way : (fill_replaces ? fill_victim : fill_free_way);
  wire [IDX_W-1:0] fill_slot = IDX_W'(slot(fill_set, fill_way));

  // The access that refreshes the replacement state this cycle: a lookup hit or a fill.
  wire touch_en = take_fill || (take_lk && lk_way >= 0);
  wire [SET_W-1:0] touch_set = take_fill ? fill_set : lk_set;
  wire [31:0] touch_way = take_fill ? fill_way : lk_way;
  wire replace_en = take_fill && fill_replaces;

  // Invalidation: the entries it removes.
  logic [ENTRIES-1:0] inv_mask;
  always_comb begin
    for (int unsigned i = 0; i < ENTRIES; i++) begin
      inv_mask[i] = valid_q[i] && inv_covers(did_q[i], epasid_q[i], vpn_q[i], size_q[i]);
`ifdef IOTLB_MUTANT_DOMAIN_INV_SKIPS_WAY
      if (inv_match_did && !inv_match_pasid && !inv_match_page && (i % WAYS) == WAYS - 1) inv_mask[i] = 1'b0;
`endif
    end
  end
  wire [31:0] inv_count = $countones(inv_mask);

  // The replacement state update for an access (hit or fill) to `way` of `set`.
  task automatic touch(input logic [SET_W-1:0] set, input int unsigned way);
    if (POLICY == 0) begin
      for (int unsigned w = 0; w < WAYS; w++) begin
        if (w == way) rank_q[slot(set, w)] <= '0;
        else if (rank_q[slot(set, w)] < rank_q[slot(set, way)]) rank_q[slot(set, w)] <= rank_q[slot(set, w)] + 1'b1;
      end
    end else if (POLICY == 1 && WAYS > 1) begin
      logic [TREE_W-1:0] touched;
      void'(tree_walk(tree_q[set], way, 1'b0, touched));
      tree_q[set] <= touched;
    end
  endtask

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      pending_q <= NONE;
      occ_q <= '0;
      rng_q <= SEED;
      valid_q <= '0;
      init_q <= 1'b1;
      init_set_q <= '0;
    end else if (init_q) begin
      for (int unsigned w = 0; w < WAYS; w++) rank_q[slot(init_set_q, w)] <= WAY_W'(w);
      tree_q[init_set_q] <= '0;
      rr_q[init_set_q] <= '0;
      init_set_q <= init_set_q + 1'b1;
      if (int'(init_set_q) == SETS - 1) init_q <= 1'b0;
    end else begin
      if (touch_en) touch(touch_set, touch_way);
      if (replace_en && POLICY == 2) rr_q[fill_set] <= WAY_W'((fill_victim + 1) % WAYS);
      if (answered) pending_q <= NONE;
      if (take_inv) begin
        valid_q <= valid_q & ~inv_mask;
        occ_q <= occ_q - inv_count;
        inv_rsp_count <= inv_count;
        pending_q <= INVALIDATE;
      end else if (take_fill) begin
        if (fill_new) begin
          vpn_q[fill_slot] <= fill_vpn;
          kpasid_q[fill_slot] <= fill_pasid;
          sid_q[fill_slot] <= fill_sid;
          size_q[fill_slot] <= fill_size;
          valid_q[fill_slot] <= 1'b1;
          if (!fill_replaces) occ_q <= occ_q + 1;
        end
        did_q[fill_slot] <= fill_did;
        epasid_q[fill_slot] <= fill_entry_pasid;
        out_q[fill_slot] <= fill_out_page;
        attr_q[fill_slot] <= fill_attr;
        fill_rsp_way <= 16'(fill_way);
        fill_rsp_evicted <= fill_replaces;
        fill_rsp_ev_vpn <= vpn_q[fill_slot];
        fill_rsp_ev_pasid <= kpasid_q[fill_slot];
        fill_rsp_ev_sid <= sid_q[fill_slot];
        fill_rsp_ev_size <= size_q[fill_slot];
        if (replace_en && POLICY == 3) rng_q <= rng_next;
        pending_q <= FILL;
      end else if (take_lk) begin
        lk_rsp_hit <= lk_way >= 0;
        lk_rsp_way <= lk_way >= 0 ? 16'(lk_way) : 16'd0;
        if (lk_way >= 0) begin
          lk_rsp_did <= did_q[slot(lk_set, lk_way)];
          lk_rsp_pasid <= epasid_q[slot(lk_set, lk_way)];
          lk_rsp_out_page <= out_q[slot(lk_set, lk_way)];
          lk_rsp_attr <= attr_q[slot(lk_set, lk_way)];
        end
        pending_q <= LOOKUP;
      end
    end
  end

  // ---------------------------------------------------------------- debug read
  wire in_range = dbg_index < ENTRIES;
  assign dbg_valid = in_range && valid_q[in_range ? dbg_index : 0];
  assign dbg_vpn = vpn_q[in_range ? dbg_index : 0];
  assign dbg_pasid = kpasid_q[in_range ? dbg_index : 0];
  assign dbg_sid = sid_q[in_range ? dbg_index : 0];
  assign dbg_size = size_q[in_range ? dbg_index : 0];
  assign dbg_did = did_q[in_range ? dbg_index : 0];
endmodule
