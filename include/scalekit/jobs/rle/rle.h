#pragma once
// The RLE job: chapter 14's case study, the run-length compression of 1-bit
// images, byte-identical to the seed's compress_image on 1-bit input.
//
// Format (docs/spec/rle-format.md): width and height as 2-byte
// little-endian, then every row top to bottom; a row's bits are cut into
// chunks of 127 (the last one shorter), and each maximal run of equal bits
// inside a chunk is one byte (bit << 7) | length. A bit is 1 where the pixel
// is white.
//
// encode/decode are pure functions (the fuzzer drives decode); load/save read
// and write 1-bit BMPs by hand (bmp.h), and other images through a converter
// that scalekit-heavy installs (libvips); compress_file spreads rows over an
// executor. The
// job's three entries (compress, decompress, compress_dir, at the end) are what
// the command line runs; compress_dir spreads files over one executor and the
// rows of each file over another inside it, as the seed's nested pools do.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::rle {

/// The format's limit: sides are 2-byte numbers.
inline constexpr std::uint32_t max_side = 65535;

/// A 1-bit image: rows of packed bits, the leftmost pixel in the most
/// significant bit, 1 = white. The buffer has 8 spare bytes at its end so that
/// scanning code may read whole words.
class bitmap {
 public:
  bitmap() = default;
  bitmap(std::uint32_t width, std::uint32_t height);  ///< all black
  [[nodiscard]] std::uint32_t width() const noexcept { return width_; }
  [[nodiscard]] std::uint32_t height() const noexcept { return height_; }
  [[nodiscard]] std::size_t stride() const noexcept { return stride_; }  ///< bytes per row
  [[nodiscard]] const std::uint8_t* row(std::uint32_t y) const { return bits_.data() + y * stride_; }
  [[nodiscard]] std::uint8_t* row(std::uint32_t y) { return bits_.data() + y * stride_; }
  [[nodiscard]] bool get(std::uint32_t x, std::uint32_t y) const { return (row(y)[x >> 3] >> (7 - (x & 7))) & 1; }
  void set(std::uint32_t x, std::uint32_t y, bool white);
  /// Same size and same pixels (padding bits ignored).
  bool operator==(const bitmap& o) const;

 private:
  std::uint32_t width_ = 0, height_ = 0;
  std::size_t stride_ = 0;
  std::vector<std::uint8_t> bits_;
};

/// The most bytes encode_row() writes for a row of `width` pixels: a byte per
/// run (a run is at least a pixel), and 64 more that the AVX-512 kernel
/// stores past the runs (scratch).
constexpr std::size_t row_bytes_max(std::uint32_t width) { return std::size_t{width} + 64; }

/// Write the runs of one row of `width` bits at `out` (the seed's
/// compress_row), and return the end of them. With `invert`, a 0 bit is white
/// (a BMP whose palette has white first). REQUIRES: `out` has
/// row_bytes_max(width) writable bytes (those past the returned end are left
/// undefined); 8 * ceil(width / 64) bytes are readable at `row` (up to 7 past
/// the row's last byte; their bits are ignored). Thread-safe.
char* encode_row(const std::uint8_t* row, std::uint32_t width, char* out, bool invert = false);
/// Append the runs of one row to `out` (as above).
void encode_row(const std::uint8_t* row, std::uint32_t width, std::string& out, bool invert = false);
/// Append the runs of `rows` rows to `out`, row r at first + r * step (a
/// negative step walks a bottom-up BMP upwards). The runs are written in
/// place, never copied; reserve `out` for them to keep it from moving. Rows
/// as encode_row() requires.
void encode_rows(const std::uint8_t* first, std::ptrdiff_t step, std::uint32_t rows, std::uint32_t width,
                 std::string& out, bool invert = false);

/// The encoder's kernels: `avx3_bytes` uses AVX-512's byte instructions (no
/// branch per run: see core::usable_avx3_byte_ops()), `scalar` runs anywhere.
/// Both write the same bytes.
enum class row_kernel { avx3_bytes, scalar };
/// The kernels this CPU runs, best first; encode_row() uses the first. scalar
/// is always there (and alone when SCALEKIT_SIMD_TARGET is below AVX3).
const std::vector<row_kernel>& usable_row_kernels();
/// encode_row() on a given kernel (for tests and benchmarks). REQUIRES: k is usable.
char* encode_row_on(row_kernel k, const std::uint8_t* row, std::uint32_t width, char* out, bool invert = false);
/// The whole file. REQUIRES sides <= max_side.
std::string encode(const bitmap& image);

/// Decode a file. Errors name the byte offset and the problem: a header cut
/// short, a zero-length run, a run that overflows its row, data that ends
/// before the last row, bytes after it. Before allocating, the declared size
/// is checked against the data (each row needs at least ceil(width/127)
/// bytes), so a small file cannot claim a huge image.
result<bitmap> decode(std::string_view data);

/// How a file became 1-bit, for the user.
enum class source_kind { one_bit, converted };

/// Reads an image that is not a 1-bit BMP as 1 bit (scalekit-heavy's is
/// libvips: grey, thresholded at 128). Errors as load()'s, naming the file.
using converter = result<bitmap> (*)(const std::string& path);
/// Install the converter load() uses for images other than 1-bit BMPs (once,
/// at start: a static initializer in scalekit-heavy and the tests). Not
/// thread-safe against running loads.
void set_converter(converter c);
/// Whether a converter is installed.
bool has_converter();

/// Read an image as 1 bit. 1-bit BMPs (bmp.h) are read by hand: a pixel is
/// white when its palette colour is light. Anything else goes to the
/// converter; without one, it is an io_error "cannot read '<path>': not a
/// 1-bit BMP, and ...". Fails, naming the file:
/// io_error when it cannot be read, corruption when it is not an image (or a
/// broken one), too_large when a side is over max_side (from the header,
/// before the pixels are read).
result<bitmap> load(const std::string& path, source_kind* how = nullptr);
/// Whether load() would hand `path` to the converter: a readable regular file
/// that is not a 1-bit BMP. A file that cannot be opened is not (load() says
/// why without one).
bool needs_converter(const std::string& path);
/// Write a 1-bit BMP (black/white palette) atomically.
status save_bmp(const bitmap& image, const std::string& path);

/// What a file operation did: the image's size and the compressed size.
struct file_stats {
  std::uint32_t width = 0, height = 0;
  std::uint64_t rle_bytes = 0;
  [[nodiscard]] std::uint64_t pixels() const { return std::uint64_t{width} * height; }
};

/// Compress `in` (any image, see load) into `out` with rows encoded on
/// `rows` (the seed's compress_in_executor). A 1-bit BMP's rows go from the
/// file straight into the calls' payloads, never copied into a bitmap. `out`
/// is written whole or not at all. Errors: load's, the output's, or the first
/// failed band's status (`cancelled` when `rows` was cancelled).
result<file_stats> compress_file(const std::string& in, const std::string& out, core::executor& rows);
/// Decompress `in` into a BMP at `out` (written whole or not at all). Errors
/// name the file (and, for bad data, the offset).
result<file_stats> decompress_file(const std::string& in, const std::string& out);

/// Registers the tasks the job sends to executors (bands of rows; whole
/// files for compress_dir). Worker processes must call it before serving.
void register_tasks();

// ---- The job's entries: options in, an executor given, a report out. ----

/// `rle compress IN OUT`.
struct compress_options {
  std::string input;   ///< any image load() reads
  std::string output;  ///< the .rle file
};

/// Compress o.input into o.output with its rows encoded on `rows`. Returns
/// invalid_argument when the output is the input (the same path, a symbolic
/// or hard link to it) or exists and is not a regular file, before anything
/// is read or written; cancelled after a stop request (nothing is written), or
/// compress_file's error when the file cannot be read (or is not a regular
/// file: a FIFO or a device is refused before it is read), is not an image or
/// is too large, or the output cannot be written. The report: the image's size, the input and
/// output bytes (work, width, height, input_bytes, output_bytes), the pixel
/// rate, and the row executor's fields.
/// Thread safety: calls on different files may run at once.
result<core::report> compress(const compress_options& o, core::executor& rows, core::observer& obs);

/// `rle decompress IN OUT.bmp`.
struct decompress_options {
  std::string input;   ///< an .rle file
  std::string output;  ///< the 1-bit BMP
};

/// Decompress o.input into a BMP at o.output. No executor: the format is one
/// sequential stream of runs. Returns invalid_argument when the output is the
/// input (or a link to it) or exists and is not a regular file;
/// decompress_file's error (naming the file and the offset of bad data, or
/// saying that a 0xN header has no pixels for a BMP; nothing is written), or
/// cancelled when a stop was requested before the BMP was written. The report: width, height,
/// input_bytes, the pixel rate.
result<core::report> decompress(const decompress_options& o, core::observer& obs);

/// The images compress_dir reads from `dir`: its *.bmp files (any case; not
/// recursive), in name order. io_error "cannot read '<dir>': ..." when the
/// directory cannot be read.
result<std::vector<std::string>> dir_images(const std::string& dir);

/// `rle compress-dir IN_DIR OUT_DIR`.
struct compress_dir_options {
  std::string input_dir;   ///< its *.bmp files (any case; not recursive) are compressed, in name order
  std::string output_dir;  ///< created; each image becomes <stem>.rle here
  /// Where each image's rows are encoded: a row executor of this kind is made
  /// for each image, inside the image executor's call (serial, threads,
  /// processes or openmp).
  core::executor_kind row_executor = core::executor_kind::threads;
  std::size_t row_jobs = 0;  ///< row workers per image; 0: one per core
};

/// Compress every image of o.input_dir, one call per image on `images`. An
/// image that fails is a message naming it and a failure in the report; the
/// others go on. Progress in images. Returns invalid_argument for a row
/// executor that cannot run inside a call (distributed), an io_error when the
/// input directory cannot be read or the output directory cannot be created,
/// invalid_argument (before any image is written) when an output would be its
/// input, cancelled after a stop request (images already written stay; none is
/// left half-written). The report: images, failed, pixels, input_bytes and
/// output_bytes, the pixel rate, the image executor's fields, row_executor and
/// row_jobs.
result<core::report> compress_dir(const compress_dir_options& o, core::executor& images, core::observer& obs);

}  // namespace scalekit::jobs::rle
