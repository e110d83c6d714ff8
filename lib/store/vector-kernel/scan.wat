;; Dot products of one query with many rows of a float32 matrix, in WebAssembly SIMD (128 bit).
;; Compiled with wabt from npm by lib/store/vector-kernel/build.ts into scan-wasm.ts; never edit
;; that file by hand (test/unit/store/vector-kernel.test.ts checks that it matches this source).
;;
;; Layout, all byte addresses into the one memory: the query (`bytes` long), the matrix (rows of
;; `bytes` each, contiguous), the output scores (f32 per row) and a row list (u32 per entry).
;; `bytes` is a row's length in bytes and must be a positive multiple of 64 (the caller pads
;; rows and the query with zeros to 16 floats). One row is read front to back, a cache line (four
;; f32x4) per step into four accumulators: a single sequential stream, which this machine's
;; prefetcher serves best (faster than reading four rows side by side, see docs/measurements.md).
;; Plain f32x4.mul and f32x4.add, no relaxed (fused) SIMD, so results are the same everywhere.
(module
  (memory (export "memory") 1 65536)

  ;; q . row, for one row at byte address $r
  (func $dot (param $q i32) (param $r i32) (param $bytes i32) (result f32)
    (local $j i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s v128)
    (loop $line
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
        (v128.load offset=0 (i32.add (local.get $q) (local.get $j)))
        (v128.load offset=0 (i32.add (local.get $r) (local.get $j))))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
        (v128.load offset=16 (i32.add (local.get $q) (local.get $j)))
        (v128.load offset=16 (i32.add (local.get $r) (local.get $j))))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul
        (v128.load offset=32 (i32.add (local.get $q) (local.get $j)))
        (v128.load offset=32 (i32.add (local.get $r) (local.get $j))))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul
        (v128.load offset=48 (i32.add (local.get $q) (local.get $j)))
        (v128.load offset=48 (i32.add (local.get $r) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 64)))
      (br_if $line (i32.lt_u (local.get $j) (local.get $bytes))))
    (local.set $s (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
      (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))

  ;; out[i] = q . row i, for the $n rows starting at $rows
  (func (export "scan") (param $q i32) (param $rows i32) (param $n i32) (param $bytes i32) (param $out i32)
    (local $i i32) (local $r i32)
    (local.set $r (local.get $rows))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (call $dot (local.get $q) (local.get $r) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (local.get $bytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; out[k] = q . row list[k], for the $m row numbers (u32) at $list
  (func (export "scanList") (param $q i32) (param $rows i32) (param $list i32) (param $m i32) (param $bytes i32) (param $out i32)
    (local $k i32)
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $k) (local.get $m)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (call $dot (local.get $q)
            (i32.add (local.get $rows) (i32.mul (i32.load (i32.add (local.get $list) (i32.shl (local.get $k) (i32.const 2)))) (local.get $bytes)))
            (local.get $bytes)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $entry))))
)
