--- What this platform offers the install: the build tools found (a C/C++ compiler, CMake), and
--- the command that installs a missing prerequisite here, so an error names the fix.
local M = {}

M.is_win = vim.fn.has("win32") == 1

local function platform()
  if M.is_win then
    return "windows"
  elseif vim.fn.has("mac") == 1 then
    return "mac"
  end
  return "linux"
end

local advice = {
  python = {
    linux = "install Python 3.11 or newer (Debian/Ubuntu: `sudo apt install python3.12 python3.12-venv`; Fedora: `sudo dnf install python3.12`; Arch: `sudo pacman -S python`)",
    mac = "install Python 3.11 or newer (`brew install python@3.12`, or python.org)",
    windows = "install Python 3.11 or newer (`winget install Python.Python.3.12`, or python.org)",
  },
  venv = {
    linux = "install the venv module for it (Debian/Ubuntu: `sudo apt install python3-venv`, or python3.X-venv for that version)",
    mac = "use a Python with the venv module (`brew install python@3.12`)",
    windows = "reinstall Python from python.org (it includes venv)",
  },
  compiler = {
    linux = "install a C/C++ compiler (Debian/Ubuntu: `sudo apt install build-essential cmake`; Fedora: `sudo dnf install gcc-c++ cmake`; Arch: `sudo pacman -S base-devel cmake`)",
    mac = "install the Xcode command line tools (`xcode-select --install`) and CMake (`brew install cmake`)",
    windows = 'install Visual Studio Build Tools with "Desktop development with C++" (it includes CMake)',
  },
  cmake = {
    linux = "install CMake (Debian/Ubuntu: `sudo apt install cmake`; Fedora: `sudo dnf install cmake`; Arch: `sudo pacman -S cmake`)",
    mac = "install CMake (`brew install cmake`)",
    windows = 'install CMake (`winget install Kitware.CMake`, or Visual Studio Build Tools with "Desktop development with C++")',
  },
}

---@param what "python"|"venv"|"compiler"|"cmake"
---@return string
function M.advice(what)
  return advice[what][platform()]
end

--- A C/C++ compiler llama.cpp's build would find ($CC/$CXX first), or nil.
---@return string?
function M.compiler()
  local candidates = M.is_win and { "cl", "clang-cl", "g++" }
    or { os.getenv("CXX") or "", "c++", "g++", "clang++", os.getenv("CC") or "", "cc", "gcc", "clang" }
  for _, exe in ipairs(candidates) do
    if exe ~= "" and vim.fn.executable(exe) == 1 then
      return vim.fn.exepath(exe)
    end
  end
end

---@return string?
function M.cmake()
  return vim.fn.executable("cmake") == 1 and vim.fn.exepath("cmake") or nil
end

return M
