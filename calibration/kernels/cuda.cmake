# CUDA calibration kernels, included from calibration/CMakeLists.txt only when SPARSIM_HAVE_CUDA.
# No GPU is needed to build: the architectures default to A100 and H100 (override with
# -DCMAKE_CUDA_ARCHITECTURES=...), never "native".
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 knows no CUDA20 dialect for nvcc; the headers used are C++17
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)

add_library(sparsim_calib_cuda
  kernels/hbm.cu
  kernels/gemm.cu
  kernels/transfer.cu
  kernels/adam.cu
  kernels/permute.cu
  kernels/nccl.cu
  kernels/calibrate_gpu.cu)
target_link_libraries(sparsim_calib_cuda PUBLIC sparsim_calib CUDA::cudart CUDA::cublas)
target_compile_definitions(sparsim_calib_cuda PUBLIC SPARSIM_HAVE_CUDA=1)
# Warnings as in the C++ code (STYLE.md: -Wall everywhere), errors with SPARSIM_WERROR.
target_compile_options(sparsim_calib_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --Werror=all-warnings>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${SPARSIM_WERROR}>>:-Xcompiler=-Werror>)
if(NOT SPARSIM_WERROR)
  target_compile_options(sparsim_calib_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--Wno-deprecated-gpu-targets>)
endif()

find_library(SPARSIM_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
find_path(SPARSIM_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
if(SPARSIM_NCCL_LIBRARY AND SPARSIM_NCCL_INCLUDE)
  target_link_libraries(sparsim_calib_cuda PUBLIC ${SPARSIM_NCCL_LIBRARY})
  target_include_directories(sparsim_calib_cuda PRIVATE ${SPARSIM_NCCL_INCLUDE})
  target_compile_definitions(sparsim_calib_cuda PRIVATE SPARSIM_HAVE_NCCL=1)
  message(STATUS "sparsim: NCCL found (${SPARSIM_NCCL_LIBRARY})")
else()
  message(STATUS "sparsim: NCCL not found, the multi-GPU collectives are not measured")
endif()
