#pragma once
// A thread of its own that runs submitted functions one at a time, in submission
// order; started on first use. The broker has two: one for admin requests that do file
// work (CreateTopics, DeleteTopics, ...), one for the controller's requests, so an
// admin request waiting for the controller's decisions never blocks them.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace strata::broker {

class serial_worker {
 public:
  explicit serial_worker(std::string thread_name) : name_(std::move(thread_name)) {}
  ~serial_worker() { stop(); }
  serial_worker(const serial_worker&) = delete;
  serial_worker& operator=(const serial_worker&) = delete;

  // Queues `fn`; after stop() it runs inline (nowhere else to run it).
  void run(std::function<void()> fn);
  // Runs what is queued, then ends the thread.
  void stop();

 private:
  void loop();

  const std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata::broker
