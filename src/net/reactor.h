#pragma once
// Private to net/: one io_context with its thread, exposed to the broker as
// a reactor_ref.
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <thread>

#include "net/request.h"

namespace strata::net {

class reactor final : public reactor_ref {
 public:
  explicit reactor(unsigned index);
  ~reactor() override;

  void start();
  void stop_and_join();

  void post(std::function<void()> fn) override;
  std::shared_ptr<timer_handle> run_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  unsigned index() const override { return index_; }

  boost::asio::io_context& context() { return ctx_; }

 private:
  unsigned index_;
  boost::asio::io_context ctx_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace strata::net
