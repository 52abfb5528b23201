"""utils/threads.py: the main process and its data workers share the CPUs;
OMP_NUM_THREADS (the user's choice) is left alone."""
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from projects.depth_pixpro.utils.threads import (configure_threads,
                                                 describe_threads,
                                                 local_processes,
                                                 main_process_threads)


@pytest.fixture
def restore_threads():
    """Put PyTorch's and the BLAS libraries' threads back after a test."""
    torch_threads = torch.get_num_threads()
    with threadpool_limits(limits=None):  # restores the BLAS limits on exit
        yield
    torch.set_num_threads(torch_threads)


def _blas_threads():
    """Threads of each BLAS library loaded (numpy's OpenBLAS, and others
    such as OpenCV's single-threaded one)."""
    return {lib['filepath']: lib['num_threads'] for lib in threadpool_info()
            if lib['user_api'] == 'blas'}


def _numpy_blas_threads():
    threads, = [n for path, n in _blas_threads().items() if 'numpy' in path]
    return threads


@pytest.mark.parametrize('cpus, workers, expected', [
    (2, 0, 2), (2, 1, 1), (2, 2, 1), (16, 2, 5), (16, 3, 4), (8, 7, 1),
    (1, 0, 1), (64, 0, 64)])
def test_main_process_threads_is_its_share(cpus, workers, expected):
    assert main_process_threads(cpus, workers) == expected
    # the processes' threads together never exceed the CPUs (one each at
    # least)
    assert expected * (1 + workers) <= max(cpus, 1 + workers)


@pytest.mark.parametrize('cpus, workers', [(0, 0), (2, -1)])
def test_main_process_threads_refuses_nonsense(cpus, workers):
    with pytest.raises(ValueError, match='num_cpus >= 1'):
        main_process_threads(cpus, workers)


def test_processes_of_a_distributed_launch_share_the_machine():
    assert main_process_threads(16, 1, num_processes=4) == 2
    assert main_process_threads(2, 0, num_processes=2) == 1
    assert local_processes({'LOCAL_WORLD_SIZE': '4'}) == 4
    assert local_processes({'SLURM_NTASKS_PER_NODE': '8'}) == 8
    assert local_processes({'SLURM_NTASKS_PER_NODE': '2(x3)'}) == 1
    assert local_processes({}) == 1
    with pytest.raises(ValueError, match='num_processes >= 1'):
        main_process_threads(2, 0, num_processes=0)


def test_configure_threads_sets_torch_and_blas(restore_threads):
    cfg = dict(train_dataloader=dict(num_workers=1))
    torch.set_num_threads(3)
    assert configure_threads(cfg, env={}, num_cpus=4) == 2
    assert torch.get_num_threads() == 2
    assert _numpy_blas_threads() == 2
    assert max(_blas_threads().values()) == 2
    # no train loader (tools/test.py): the test loader's workers
    cfg = dict(test_dataloader=dict(num_workers=3))
    assert configure_threads(cfg, env={}, num_cpus=4) == 1
    assert torch.get_num_threads() == 1
    # two training processes of a launch on this machine
    cfg = dict(train_dataloader=dict(num_workers=1))
    assert configure_threads(cfg, env={'LOCAL_WORLD_SIZE': '2'},
                             num_cpus=8) == 2


def test_configure_threads_leaves_the_users_choice(restore_threads):
    torch.set_num_threads(3)
    cfg = dict(train_dataloader=dict(num_workers=2))
    assert configure_threads(cfg, env={'OMP_NUM_THREADS': '1'},
                             num_cpus=2) is None
    assert torch.get_num_threads() == 3


class _ThreadsOfWorker(torch.utils.data.Dataset):
    """Reports, from inside a DataLoader worker, its threads."""

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return torch.get_num_threads(), _numpy_blas_threads()


@pytest.mark.parametrize('cfg_workers, threads', [(1, 1), (0, 2)])
def test_forked_workers_inherit_the_blas_limit(restore_threads, cfg_workers,
                                               threads):
    """Whatever the library's own start-up value (1 or 2 here), a forked
    worker has the limit its main process set; PyTorch gives it 1."""
    cfg = dict(train_dataloader=dict(num_workers=cfg_workers))
    assert configure_threads(cfg, env={}, num_cpus=2) == threads
    loader = torch.utils.data.DataLoader(
        _ThreadsOfWorker(), num_workers=1, batch_size=None,
        multiprocessing_context='fork')
    (torch_threads, numpy_blas), = list(loader)
    assert torch_threads == 1 and numpy_blas == threads


def test_describe_threads(restore_threads):
    torch.set_num_threads(1)
    assert describe_threads(2, env={}, num_cpus=2) == (
        'threads: 1 in the main process, 1 in each of 2 data workers, 2 CPUs'
        ' (CPUs // (1 + workers); set OMP_NUM_THREADS to choose)')
    assert describe_threads(0, env={'OMP_NUM_THREADS': '1'}, num_cpus=1) == (
        'threads: 1 in the main process, 1 CPU (OMP_NUM_THREADS=1)')
    assert describe_threads(1, env={'LOCAL_WORLD_SIZE': '2'},
                            num_cpus=4) == (
        'threads: 1 in the main process, 1 in the data worker, 4 CPUs '
        '(CPUs // (2 processes x (1 + workers)); set OMP_NUM_THREADS to '
        'choose)')
    # set by someone else (not the rule, not the variable): facts only
    assert describe_threads(1, env={}, num_cpus=8) == (
        'threads: 1 in the main process, 1 in the data worker, 8 CPUs')
