// host::call(app, req): a response kept whole in memory, through a sink that
// appends.
#include <string>
#include <string_view>

#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi {
namespace {

class buffering_sink final : public response_sink {
 public:
  explicit buffering_sink(buffered_response& out) noexcept : out_(out) {}

  bool start(const response_head& head) override {
    out_.status_code = head.status_code;
    out_.status = std::string(head.status);
    out_.headers.clear();
    for (const auto& f : head.headers) out_.headers.emplace_back(f.name, f.value);
    out_.content_length = head.content_length;
    return true;
  }
  bool write(std::string_view chunk) override {
    out_.body.append(chunk);
    return true;
  }
  void end() override {}
  void abort() override {}

 private:
  buffered_response& out_;
};

}  // namespace

buffered_response host::call(app_id app, const request& req) {
  buffered_response out;
  buffering_sink sink(out);
  out.result = call(app, req, sink);
  return out;
}

}  // namespace scalekit::serve::wsgi
