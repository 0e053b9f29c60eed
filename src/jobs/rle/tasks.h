#pragma once
// The RLE job's tasks, private to the job: their names and payloads are no
// one else's business. rle.cc owns the rows task (compress_file's bands),
// job.cc the file task (compress_dir's images) and register_tasks().

namespace scalekit::jobs::rle::detail {

/// Payload: width, row count, stride, the packed rows and 8 spare bytes;
/// result: the rows' runs. For images made in memory (converted, or one colour).
inline constexpr const char* rows_task = "rle.rows";
/// Payload: a 1-bit BMP's path, device, inode and size, and a band of image
/// rows; result: the band's runs. The task reads the band from the file
/// itself, so rows never travel in payloads (any executor: worker processes
/// share the file system).
inline constexpr const char* file_rows_task = "rle.file_rows";
/// Payload: input path, output path, row executor kind, row jobs; result:
/// width, height, compressed bytes.
inline constexpr const char* file_task = "rle.compress_file";

/// Adds rows_task and file_rows_task to the global task registry (rle.cc).
void register_rows_task();

}  // namespace scalekit::jobs::rle::detail
